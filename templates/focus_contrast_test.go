package templates

import (
	"math"
	"regexp"
	"strconv"
	"testing"
)

// The focus ring of pages and of mails' buttons stands out at least 3:1
// against the white card and the grey page (WCAG 2.2, 1.4.11 non-text
// contrast): #7ab3ef, the ring before, was 2.2:1 on white. A mail read in a
// dark theme keeps a light ring on its dark card.
func TestFocusRingsStandOut(t *testing.T) {
	ring := regexp.MustCompile(`outline: 3px solid (#[0-9a-f]{6})`)
	for _, f := range []string{"static/style.css", "static/staff.css", "mail/layout.html.tmpl"} {
		b, err := files.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ring.FindAllStringSubmatch(string(b), -1) {
			for _, bg := range []string{"#ffffff", "#f6f7f9"} {
				if c := contrast(m[1], bg); c < 3 {
					t.Errorf("%s: focus ring %s on %s is %.1f:1, want at least 3:1", f, m[1], bg, c)
				}
			}
		}
	}
	b, _ := files.ReadFile("mail/layout.html.tmpl")
	dark := regexp.MustCompile(`a\.button:focus \{ outline-color: (#[0-9a-f]{6}) !important; \}`).FindStringSubmatch(string(b))
	if dark == nil {
		t.Fatal("mail layout: no focus ring for a dark theme")
	}
	if c := contrast(dark[1], "#1b1f24"); c < 3 {
		t.Errorf("mail layout: dark-theme focus ring %s on #1b1f24 is %.1f:1", dark[1], c)
	}
}

// contrast is the WCAG contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

func luminance(hex string) float64 {
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l
}
