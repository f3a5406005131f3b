package pdftext

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtractTheTextLayer(t *testing.T) {
	data, err := os.ReadFile("../../testdata/invoices/clean-under-threshold.pdf")
	require.NoError(t, err)
	require.True(t, IsPDF(data))
	text, err := Extract(data)
	require.NoError(t, err)
	assert.Contains(t, text, "INVOICE")
	assert.Contains(t, text, "ACM-2026-1187")
	assert.Contains(t, text, "245.14")
}

func TestAScanHasNoText(t *testing.T) {
	data, err := os.ReadFile("../../testdata/invoices/scanned.pdf")
	require.NoError(t, err)
	_, err = Extract(data)
	assert.ErrorIs(t, err, ErrNoText)
}

func TestNotAPDF(t *testing.T) {
	assert.False(t, IsPDF([]byte("INVOICE 12")))
	_, err := Extract([]byte("%PDF-1.4 broken"))
	assert.ErrorContains(t, err, "the PDF cannot be read")
}
