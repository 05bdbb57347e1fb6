package password

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func newTestPolicy(t testing.TB, extra string) *Policy {
	t.Helper()
	var r io.Reader // nil, not a typed nil, when there is no extra list
	if extra != "" {
		r = strings.NewReader(extra)
	}
	p, err := NewPolicy(0, 0, r)
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	return p
}

func TestPolicyCheck(t *testing.T) {
	p := newTestPolicy(t, "# our own additions\n\nSunnyHillsRocks\n  bedside manner matters  \r\n")
	ctxWords := []string{"Sunny Hills Family Practice", "sunny-hills", "jane.doe@sunnyhills.example"}
	tests := []struct {
		name     string
		password string
		want     string // violation code, "" for accepted
	}{
		// Accepted: long passphrases in any script, spaces allowed, no
		// composition rules.
		{"english passphrase", "correct staple horse battery river", ""},
		{"lowercase words only", "glacier pickle trombone sunrise", ""},
		{"cyrillic passphrase", "колбаса гром синий тюльпан", ""},
		{"chinese sentence", "我的密码是一个很长的句子吗你猜猜看", ""},
		{"emoji passphrase", "🦄🌈 unicorns dance on rainbows 🎉", ""},
		{"only emoji", "🦄🌈🎉🐢🚲🍕🌵🎻🧀🦔🚀🌋🎈🐙🍉", ""},
		{"arabic passphrase", "القمر يضيء فوق البحر الهادئ", ""},
		{"greek with digits", "ο γάτος τρώει 42 ελιές τη νύχτα", ""},
		{"random characters", "x7#Lq!m2@pZ9$vR4", ""},
		{"exactly 15 characters", "horse staple ox", ""},
		{"mentions practice word in a long phrase", "my family loves hiking in october", ""},
		{"long and boring but not listed", "the green kettle whistles at dawn", ""},

		// invalid
		{"NUL byte", "correct horse\x00battery staple", CodeInvalid},
		{"invalid UTF-8", "correct horse battery \xff\xfe staple", CodeInvalid},
		{"truncated UTF-8", "correct horse battery staple \xe6\x88", CodeInvalid},

		// too_short
		{"empty", "", CodeTooShort},
		{"short", "Tr0ub4dor&3", CodeTooShort},
		{"14 characters", "horse staple o", CodeTooShort},
		{"short in code points though long in bytes", "我的密码是一个很长的句子", CodeTooShort},
		{"short emoji", "🦄🌈🎉🐢🚲🍕", CodeTooShort},

		// too_long
		{"1025 characters", strings.Repeat("ab", 512) + "c", CodeTooLong},
		{"1025 CJK characters", strings.Repeat("密", 1025), CodeTooLong},
		{"huge", strings.Repeat("x", 1<<20), CodeTooLong},

		// common
		{"listed long password", "passwordpassword", CodeCommon},
		{"listed keyboard walk", "qwertyuiopasdfgh", CodeCommon},
		{"listed phrase", "thisismypassword", CodeCommon},
		{"listed phrase any case", "ThisIsMyPassword", CodeCommon},
		{"listed phrase with spaces", "this is my password", CodeCommon},
		{"listed famous passphrase with spaces", "correct horse battery staple", CodeCommon},
		{"listed healthcare", "welcome2clinic12345", CodeCommon},
		{"listed with trailing digits", "password123456!!", CodeCommon},
		{"listed with trailing year and bang", "temporarypassword2024!", CodeCommon},
		{"listed with leading and trailing filler", "2024!!iloveyouiloveyou!!", CodeCommon},
		{"listed short base with digits", "football1234567890", CodeCommon},
		{"extra blocklist", "sunnyhillsrocks2024", CodeCommon},
		{"extra blocklist trimmed line", "Bedside Manner Matters", CodeCommon},

		// repetitive
		{"one character", "aaaaaaaaaaaaaaaaaaaa", CodeRepetitive},
		{"spaces only", "                    ", CodeRepetitive},
		{"unicode repeated", "жжжжжжжжжжжжжжжжжж", CodeRepetitive},
		{"two-character unit", "xyxyxyxyxyxyxyxyxy", CodeRepetitive},
		{"four-character unit", "wxyzwxyzwxyzwxyz", CodeRepetitive},
		{"four-character unit with partial tail", "hjklhjklhjklhjklh", CodeRepetitive},
		{"long unit thrice", "bananaphonebananaphonebananaphone", CodeRepetitive},
		{"almost one character", "zzzzzzzzzzzzzzzzzz1", CodeRepetitive},
		{"ascending digits", "234567890123456", CodeRepetitive},
		{"descending digits", "987654321098765", CodeRepetitive},
		{"ascending letters", "bcdefghijklmnopq", CodeRepetitive},
		{"descending letters", "zyxwvutsrqponmlk", CodeRepetitive},
		{"keyboard row walk", "wertyuiopasdfghj", CodeRepetitive},
		{"keyboard walk backwards", "lkjhgfdsapoiuytre", CodeRepetitive},
		{"keyboard column walk", "2wsx3edc4rfv5tgb", CodeRepetitive},
		{"run with trailing run", "rtyuiop123456789", CodeRepetitive},
		{"run with trailing punctuation", "cdefghijklmnop!!", CodeRepetitive},
		{"spaced digits", "3 4 5 6 7 8 9 0 1 2", CodeRepetitive},

		// context
		{"practice name", "SunnyHills Family Practice", CodeContext},
		{"practice name plus short suffix", "sunnyhillsfamilypractice!", CodeContext},
		{"slug and email local part", "sunny-hills jane.doe", CodeContext},
		{"email address", "jane.doe@sunnyhills.example", CodeContext},
		{"email local part plus digits", "jane.doe 2024 jane", CodeContext},
		{"practice name plus a run", "sunnyhills123456789", CodeContext},
		{"practice name plus a listed password", "sunnyhills password", CodeContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Check(tc.password, ctxWords...)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tc.password, err)
				}
				return
			}
			var v *Violation
			if !errors.As(err, &v) {
				t.Fatalf("Check(%q) = %v, want *Violation %s", tc.password, err, tc.want)
			}
			if v.Code != tc.want {
				t.Errorf("Check(%q) code = %s, want %s", tc.password, v.Code, tc.want)
			}
			if !strings.HasSuffix(v.Reason, ".") || !unicode.IsUpper([]rune(v.Reason)[0]) {
				t.Errorf("Reason %q is not a sentence", v.Reason)
			}
			if !strings.Contains(v.Error(), v.Code) {
				t.Errorf("Error() = %q does not mention the code", v.Error())
			}
		})
	}
}

func TestPolicyContextOnlyWithContext(t *testing.T) {
	p := newTestPolicy(t, "")
	pw := "SunnyHills Family Practice"
	if err := p.Check(pw); err != nil {
		t.Errorf("without context words, Check(%q) = %v, want nil", pw, err)
	}
	if err := p.Check(pw, "", "  ", "abc"); err != nil {
		t.Errorf("with empty or short context words, Check(%q) = %v, want nil", pw, err)
	}
}

func TestPolicyReasonNamesMinimum(t *testing.T) {
	p := newTestPolicy(t, "")
	err := p.Check("short")
	var v *Violation
	if !errors.As(err, &v) || v.Code != CodeTooShort {
		t.Fatalf("Check = %v, want too_short", err)
	}
	if !strings.Contains(v.Reason, "15 characters") {
		t.Errorf("Reason %q does not name the minimum", v.Reason)
	}
}

func TestNewPolicyLengths(t *testing.T) {
	tests := []struct {
		name             string
		min, max         int
		wantMin, wantMax int
		wantErr          bool
	}{
		{"defaults", 0, 0, 15, 1024, false},
		{"mfa minimum", 8, 0, 8, 1024, false},
		{"custom", 20, 256, 20, 256, false},
		{"below NIST minimum", 7, 0, 0, 0, true},
		{"negative", -1, 0, 0, 0, true},
		{"max below 64", 0, 63, 0, 0, true},
		{"max below min", 100, 80, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPolicy(tc.min, tc.max, nil)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("NewPolicy(%d, %d) = nil error", tc.min, tc.max)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.MinLength() != tc.wantMin || p.MaxLength() != tc.wantMax {
				t.Errorf("lengths = %d..%d, want %d..%d", p.MinLength(), p.MaxLength(), tc.wantMin, tc.wantMax)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestNewPolicyExtraBlocklistError(t *testing.T) {
	_, err := NewPolicy(0, 0, errReader{})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("NewPolicy with failing reader: err = %v", err)
	}
}

// TestBlocklistFile checks the shipped list is lowercase, sorted and
// deduplicated, has a header comment, and is within the size budget.
func TestBlocklistFile(t *testing.T) {
	if len(shippedBlocklist) > 60<<10 {
		t.Errorf("blocklist.txt is %d bytes, want under 60 KiB", len(shippedBlocklist))
	}
	if !strings.HasPrefix(shippedBlocklist, "#") {
		t.Error("blocklist.txt does not start with a '#' header comment")
	}
	sc := bufio.NewScanner(strings.NewReader(shippedBlocklist))
	var prev string
	n := 0
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if strings.HasPrefix(s, "#") {
			continue
		}
		switch {
		case s == "":
			t.Errorf("line %d: blank line", line)
		case !utf8.ValidString(s):
			t.Errorf("line %d: invalid UTF-8", line)
		case s != strings.ToLower(s):
			t.Errorf("line %d: %q is not lowercase", line, s)
		case s != strings.TrimSpace(s) || strings.ContainsAny(s, " \t\r"):
			t.Errorf("line %d: %q contains whitespace", line, s)
		case n > 0 && s == prev:
			t.Errorf("line %d: %q is duplicated", line, s)
		case n > 0 && s < prev:
			t.Errorf("line %d: %q sorts before %q", line, s, prev)
		}
		prev = s
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 1500 || n > 3000 {
		t.Errorf("blocklist has %d entries, want 1500..3000", n)
	}
	p := newTestPolicy(t, "")
	for _, must := range []string{"123456", "password", "qwerty", "iloveyou", "passwordpassword",
		"qwertyuiopasdfgh", "iloveyouiloveyou", "correcthorsebatterystaple", "123456789012345",
		"1q2w3e4r5t6y7u8i", "trustno1trustno1", "letmeinletmein", "thisismypassword",
		"welcometothejungle", "welcome2clinic", "therapypractice", "changemenow12345", "temporarypassword"} {
		if !p.blocklist.contains(must) {
			t.Errorf("blocklist lacks %q", must)
		}
	}
}

func TestIsWalk(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"abc", true},
		{"cba", true},
		{"7890123", true},
		{"qwerty", true},
		{"ytrewq", true},
		{"1qaz2wsx", true},
		{"zaq1xsw2", true},
		{"abd", false},
		{"ab", false},
		{"abcabc", false},
		{"aqwe", false},
	}
	for _, tc := range tests {
		if got := isWalk([]rune(tc.s)); got != tc.want {
			t.Errorf("isWalk(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestPeriod(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"a", 1},
		{"aaaa", 1},
		{"abab", 2},
		{"ababa", 2},
		{"abcabcab", 3},
		{"abcd", 4},
		{"abaab", 3},
	}
	for _, tc := range tests {
		if got := period([]rune(tc.s)); got != tc.want {
			t.Errorf("period(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

func TestContextTokens(t *testing.T) {
	got := contextTokens([]string{"Jane.Doe+fd@Mail.Sunny-Hills.example", "Dr. Ng's Clinic", "ab"})
	want := map[string]bool{
		"jane.doe+fd@mail.sunny-hills.example": true,
		"jane.doe+fd":                          true,
		"janedoefd":                            true,
		"jane":                                 true,
		"mail":                                 true,
		"dr.ng'sclinic":                        true,
		"drngsclinic":                          true,
		"clinic":                               true,
	}
	if len(got) != len(want) {
		t.Errorf("contextTokens = %q, want the keys of %v", got, want)
	}
	for i, tok := range got {
		if !want[tok] {
			t.Errorf("unexpected token %q", tok)
		}
		if i > 0 && len(got[i-1]) < len(tok) {
			t.Errorf("tokens not longest first: %q before %q", got[i-1], tok)
		}
	}
}

func BenchmarkPolicyCheck(b *testing.B) {
	p := newTestPolicy(b, "")
	ctxWords := []string{"Sunny Hills Family Practice", "sunny-hills", "jane.doe@sunnyhills.example"}
	for b.Loop() {
		if err := p.Check("колбаса гром синий тюльпан and a kettle", ctxWords...); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWordSet: the blocklist's set holds exactly the words it was given,
// duplicates once, and answers for words between, before and after them.
func TestWordSet(t *testing.T) {
	ws := newWordSet([]string{"pear", "apple", "fig", "apple", "", "zucchini"})
	for _, tc := range []struct {
		word string
		want bool
	}{
		{"apple", true}, {"fig", true}, {"pear", true}, {"zucchini", true}, {"", true},
		{"appl", false}, {"apples", false}, {"a", false}, {"zz", false}, {"banana", false}, {"Pear", false},
	} {
		if got := ws.contains(tc.word); got != tc.want {
			t.Errorf("contains(%q) = %v, want %v", tc.word, got, tc.want)
		}
	}
	if len(ws.ends) != 5 {
		t.Errorf("%d words, want 5 (duplicates once)", len(ws.ends))
	}
	if newWordSet(nil).contains("x") {
		t.Error("empty set contains x")
	}
}
