package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoBuildOutputIsTracked keeps binaries and large files out of git: no
// tracked file is an executable (ELF, Mach-O, PE) or over 5 MB.
func TestNoBuildOutputIsTracked(t *testing.T) {
	out, err := exec.Command("git", "-C", RepoRoot(), "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	magics := [][]byte{{0x7f, 'E', 'L', 'F'}, {0xcf, 0xfa, 0xed, 0xfe}, {0xce, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe}, []byte("MZ")}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	require.NotEmpty(t, files)
	for _, name := range files {
		path := filepath.Join(RepoRoot(), name)
		info, err := os.Stat(path)
		if err != nil {
			continue // deleted in the work tree
		}
		assert.LessOrEqual(t, info.Size(), int64(5<<20), "%s is over 5 MB; keep large files out of git", name)
		f, err := os.Open(path)
		require.NoError(t, err)
		head := make([]byte, 4)
		n, _ := f.Read(head)
		f.Close()
		for _, m := range magics {
			assert.False(t, n >= len(m) && bytes.Equal(head[:len(m)], m), "%s is an executable binary; build output stays out of git", name)
		}
	}
}
