package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cpuTime is the CPU time so far of this test process and the servers it
// started: the model server (Ollama and its runners, one process group),
// this process (the workers and the benchmark's clients), and the rest of
// its descendants (the Temporal dev server).
type cpuTime struct{ model, self, temporal time.Duration }

func (a cpuTime) plus(b cpuTime) cpuTime {
	return cpuTime{model: a.model + b.model, self: a.self + b.self, temporal: a.temporal + b.temporal}
}

func (a cpuTime) minus(b cpuTime) cpuTime {
	return a.plus(cpuTime{model: -b.model, self: -b.self, temporal: -b.temporal})
}

// clockTick is the unit of /proc/<pid>/stat's CPU times (USER_HZ, 100 on
// Linux).
const clockTick = 10 * time.Millisecond

// readCPU reads the CPU time of this process and its descendants from
// /proc, telling the model server's processes by their process group.
func readCPU(t testing.TB, modelGroup int) cpuTime {
	type proc struct {
		parent, group int
		cpu           time.Duration
	}
	procs := map[int]proc{}
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	require.NoError(t, err)
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended
		}
		// The command name is in brackets and may hold spaces; the fields
		// after it start with the state (field 3).
		fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		parent, _ := strconv.Atoi(fields[1])
		group, _ := strconv.Atoi(fields[2])
		user, _ := strconv.Atoi(fields[11])
		system, _ := strconv.Atoi(fields[12])
		procs[pid] = proc{parent: parent, group: group, cpu: time.Duration(user+system) * clockTick}
	}
	self := os.Getpid()
	descends := func(pid int) bool {
		for ; pid > 1; pid = procs[pid].parent {
			if pid == self {
				return true
			}
		}
		return false
	}
	var c cpuTime
	for pid, p := range procs {
		switch {
		case pid == self:
			c.self += p.cpu
		case !descends(pid):
		case p.group == modelGroup:
			c.model += p.cpu
		default:
			c.temporal += p.cpu
		}
	}
	if c.model == 0 && c.temporal == 0 {
		t.Fatalf("found no server process under this test process (%d) in /proc", self)
	}
	return c
}
