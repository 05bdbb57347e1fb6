package account

import "testing"

// NPIs are checked by their Luhn check digit over the 80840 prefix (CMS,
// "Requirements for National Provider Identifier check digit"); taxonomy
// codes by the NUCC shape.
func TestCheckNPI(t *testing.T) {
	for _, tt := range []struct {
		npi string
		ok  bool
	}{
		{"1234567893", true}, // the CMS example
		{"1245319599", true},
		{"1679576722", true},
		{"1234567890", false}, // wrong check digit
		{"1234567894", false},
		{"123456789", false},
		{"12345678933", false},
		{"12345a7893", false},
		{"", false},
		{"１２３４５６７８９３", false}, // full-width digits
		{"0000000000", false},
	} {
		if err := CheckNPI(tt.npi); (err == nil) != tt.ok {
			t.Errorf("CheckNPI(%q) = %v, want ok=%v", tt.npi, err, tt.ok)
		}
	}
	// Every single-digit change of a valid NPI is caught.
	valid := []byte("1234567893")
	for i := range valid {
		for d := byte('0'); d <= '9'; d++ {
			if d == valid[i] {
				continue
			}
			b := append([]byte(nil), valid...)
			b[i] = d
			if CheckNPI(string(b)) == nil {
				t.Errorf("%s accepted", b)
			}
		}
	}
}

func TestCheckTaxonomy(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"101YM0800X", "101YM0800X"}, {"1041c0700x", "1041C0700X"}, {" 103T00000X ", "103T00000X"},
		{"101YM0800", ""}, {"101YM08000", ""}, {"A01YM0800X", ""}, {"101YM-800X", ""}, {"101YM0800X1", ""}, {"", ""},
	} {
		got, err := CheckTaxonomy(tt.in)
		if tt.want == "" && err == nil || tt.want != "" && (err != nil || got != tt.want) {
			t.Errorf("CheckTaxonomy(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
