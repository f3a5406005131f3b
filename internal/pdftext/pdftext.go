// Package pdftext reads the text layer of a PDF, so invoices can arrive as
// PDFs; a PDF without one (a scan) is refused with a sentence.
package pdftext

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/ledongthuc/pdf"
)

// IsPDF reports whether data starts like a PDF file.
func IsPDF(data []byte) bool { return bytes.HasPrefix(data, []byte("%PDF-")) }

// ErrNoText is returned for a PDF whose pages carry no text.
var ErrNoText = errors.New("the PDF has no text layer (is it a scan?); run OCR on it first, or send the invoice's text")

// Extract returns the PDF's text, page by page, one line per text row.
func Extract(data []byte) (text string, err error) {
	defer func() {
		if r := recover(); r != nil { // the reader panics on some damaged files
			text, err = "", fmt.Errorf("the PDF cannot be read: %v", r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("the PDF cannot be read: %v", err)
	}
	var b strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		page := r.Page(i)
		if page.V.IsNull() {
			continue
		}
		rows, err := page.GetTextByRow()
		if err != nil {
			return "", fmt.Errorf("the PDF's page %d cannot be read: %v", i, err)
		}
		for _, row := range rows {
			var words []string
			for _, w := range row.Content {
				words = append(words, w.S)
			}
			b.WriteString(strings.TrimSpace(strings.Join(words, "")))
			b.WriteByte('\n')
		}
	}
	if strings.TrimSpace(b.String()) == "" {
		return "", ErrNoText
	}
	return b.String(), nil
}
