package activities

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Calculate evaluates an arithmetic expression of numbers, + - * /,
// unary minus and parentheses.
func Calculate(expr string) (float64, error) {
	p := &calcParser{src: strings.TrimSpace(expr)}
	if p.src == "" {
		return 0, fmt.Errorf("the expression is empty")
	}
	v, err := p.sum()
	if err != nil {
		return 0, err
	}
	p.skip()
	if p.pos < len(p.src) {
		return 0, fmt.Errorf("unexpected %q at position %d", p.src[p.pos:], p.pos+1)
	}
	return v, nil
}

type calcParser struct {
	src string
	pos int
}

func (p *calcParser) skip() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

func (p *calcParser) sum() (float64, error) {
	v, err := p.product()
	for err == nil {
		p.skip()
		if p.pos >= len(p.src) || (p.src[p.pos] != '+' && p.src[p.pos] != '-') {
			return v, nil
		}
		op := p.src[p.pos]
		p.pos++
		var w float64
		if w, err = p.product(); err == nil {
			if op == '+' {
				v += w
			} else {
				v -= w
			}
		}
	}
	return 0, err
}

func (p *calcParser) product() (float64, error) {
	v, err := p.factor()
	for err == nil {
		p.skip()
		if p.pos >= len(p.src) || (p.src[p.pos] != '*' && p.src[p.pos] != '/') {
			return v, nil
		}
		op := p.src[p.pos]
		p.pos++
		var w float64
		if w, err = p.factor(); err == nil {
			if op == '*' {
				v *= w
			} else if w == 0 {
				return 0, fmt.Errorf("division by zero")
			} else {
				v /= w
			}
		}
	}
	return 0, err
}

func (p *calcParser) factor() (float64, error) {
	p.skip()
	if p.pos >= len(p.src) {
		return 0, fmt.Errorf("the expression ends too early")
	}
	switch c := p.src[p.pos]; {
	case c == '-':
		p.pos++
		v, err := p.factor()
		return -v, err
	case c == '(':
		p.pos++
		v, err := p.sum()
		if err != nil {
			return 0, err
		}
		p.skip()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return 0, fmt.Errorf("a parenthesis is not closed")
		}
		p.pos++
		return v, nil
	case unicode.IsDigit(rune(c)) || c == '.':
		start := p.pos
		for p.pos < len(p.src) && (unicode.IsDigit(rune(p.src[p.pos])) || p.src[p.pos] == '.') {
			p.pos++
		}
		return strconv.ParseFloat(p.src[start:p.pos], 64)
	default:
		return 0, fmt.Errorf("unexpected %q at position %d", string(c), p.pos+1)
	}
}
