package password

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// shippedBlocklist is the embedded list of common and breached passwords:
// one lowercase password per line, sorted, deduplicated; '#' lines are
// comments.
//
//go:embed blocklist.txt
var shippedBlocklist string

// Violation codes, the values of [Violation.Code].
const (
	CodeTooShort   = "too_short"  // fewer code points than the minimum
	CodeTooLong    = "too_long"   // more code points than the maximum
	CodeCommon     = "common"     // on the blocklist
	CodeRepetitive = "repetitive" // repeated characters or a simple sequence
	CodeContext    = "context"    // too close to the person's email or practice
	CodeInvalid    = "invalid"    // contains NUL or is not valid UTF-8
)

const (
	// DefaultMinLength is NIST SP 800-63B-4's minimum for passwords used as
	// a single factor, in code points.
	DefaultMinLength = 15
	// DefaultMaxLength is the default maximum, in code points.
	DefaultMaxLength = 1024

	// minMinLength is NIST's absolute minimum (for passwords used with a
	// second factor); NewPolicy refuses anything lower.
	minMinLength = 8
	// minMaxLength is the maximum NIST says verifiers should permit at
	// least.
	minMaxLength = 64

	// minStrippedLen is how long the part of a password left after
	// removing leading or trailing digits and punctuation must be before it
	// is compared with the blocklist on its own.
	minStrippedLen = 6
	// minContextToken is the shortest context-derived token that counts.
	minContextToken = 4
	// minContextRemainder is how many code points must be left once the
	// context tokens are removed.
	minContextRemainder = 8
)

// Violation is the reason [Policy.Check] refused a password.
type Violation struct {
	// Code is a stable, machine-readable code: one of the Code constants.
	Code string
	// Reason is a full sentence shown to the person, saying what to do next.
	Reason string
}

// Error returns the code and the reason.
func (v *Violation) Error() string {
	return "password rejected (" + v.Code + "): " + v.Reason
}

// Policy decides whether a new password is acceptable, following NIST SP
// 800-63B-4. It is safe for concurrent use.
type Policy struct {
	minLength, maxLength int
	blocklist            wordSet
}

// wordSet is a set of strings held in two objects, all the words sorted and
// concatenated and the end offset of each, instead of a map of a few
// thousand strings: the policy lives for the whole process, and every
// garbage collection (one ends every password hash) marks what the live
// heap holds. A lookup is a binary search.
type wordSet struct {
	all  string
	ends []uint32 // word i is all[ends[i-1]:ends[i]] (from 0 for i = 0)
}

// newWordSet returns the set of words (duplicates allowed).
func newWordSet(words []string) wordSet {
	slices.Sort(words)
	words = slices.Compact(words)
	var b strings.Builder
	ends := make([]uint32, len(words))
	for i, w := range words {
		b.WriteString(w)
		ends[i] = uint32(b.Len())
	}
	return wordSet{all: b.String(), ends: ends}
}

func (ws wordSet) word(i int) string {
	start := uint32(0)
	if i > 0 {
		start = ws.ends[i-1]
	}
	return ws.all[start:ws.ends[i]]
}

// contains reports whether s is in the set.
func (ws wordSet) contains(s string) bool {
	i := sort.Search(len(ws.ends), func(i int) bool { return ws.word(i) >= s })
	return i < len(ws.ends) && ws.word(i) == s
}

// NewPolicy returns a policy. minLength is the minimum length in Unicode
// code points (0 means the default, 15; less than 8 is refused), maxLength
// the maximum in code points (0 means the default, 1024; input above it is
// refused, which bounds work; less than 64 or than minLength is refused).
// extraBlocklist may be nil; when non-nil it is read as one password per
// line (blank lines and lines starting with '#' ignored, surrounding
// whitespace trimmed, compared case-insensitively) and added to the shipped
// list.
func NewPolicy(minLength, maxLength int, extraBlocklist io.Reader) (*Policy, error) {
	if minLength == 0 {
		minLength = DefaultMinLength
	}
	if maxLength == 0 {
		maxLength = DefaultMaxLength
	}
	switch {
	case minLength < minMinLength:
		return nil, fmt.Errorf("password: minimum length %d is below %d", minLength, minMinLength)
	case maxLength < minMaxLength:
		return nil, fmt.Errorf("password: maximum length %d is below %d", maxLength, minMaxLength)
	case maxLength < minLength:
		return nil, fmt.Errorf("password: maximum length %d is below minimum length %d", maxLength, minLength)
	}

	words, err := readBlocklist(nil, strings.NewReader(shippedBlocklist))
	if err != nil {
		return nil, fmt.Errorf("password: reading shipped blocklist: %w", err)
	}
	if extraBlocklist != nil {
		if words, err = readBlocklist(words, extraBlocklist); err != nil {
			return nil, fmt.Errorf("password: reading extra blocklist: %w", err)
		}
	}
	return &Policy{minLength: minLength, maxLength: maxLength, blocklist: newWordSet(words)}, nil
}

// readBlocklist appends to words the lower-cased passwords r lists.
func readBlocklist(words []string, r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words = append(words, strings.ToLower(line))
	}
	return words, sc.Err()
}

// MinLength returns the minimum length in code points.
func (p *Policy) MinLength() int { return p.minLength }

// MaxLength returns the maximum length in code points.
func (p *Policy) MaxLength() int { return p.maxLength }

// Check returns nil or a *Violation. contextWords are things like the
// practice name, practice slug and the member's email address; a word
// containing '@' is treated as an email address.
//
// The checks, in order: invalid (NUL or invalid UTF-8), too_long, too_short,
// common, repetitive, context. The password itself is never altered; case
// is ignored only when comparing with the blocklist, sequences and context.
func (p *Policy) Check(password string, contextWords ...string) error {
	// Bound the work before looking at every byte: each code point is at
	// most utf8.UTFMax bytes.
	if len(password) > utf8.UTFMax*p.maxLength {
		return p.violation(CodeTooLong)
	}
	if !utf8.ValidString(password) || strings.IndexByte(password, 0) >= 0 {
		return p.violation(CodeInvalid)
	}
	n := utf8.RuneCountInString(password)
	if n > p.maxLength {
		return p.violation(CodeTooLong)
	}
	if n < p.minLength {
		return p.violation(CodeTooShort)
	}
	lower := strings.ToLower(password)
	if p.isCommon(lower) {
		return p.violation(CodeCommon)
	}
	if isRepetitive([]rune(lower)) {
		return p.violation(CodeRepetitive)
	}
	if p.tooCloseToContext(lower, contextWords) {
		return p.violation(CodeContext)
	}
	return nil
}

func (p *Policy) violation(code string) *Violation {
	var reason string
	switch code {
	case CodeTooShort:
		reason = fmt.Sprintf("Use at least %d characters. A passphrase of several unrelated words is easiest to remember.", p.minLength)
	case CodeTooLong:
		reason = fmt.Sprintf("Use at most %d characters. A passphrase of a few unrelated words is long enough.", p.maxLength)
	case CodeCommon:
		reason = "This password is on a list of commonly used or leaked passwords, so it is easy to guess. Choose something less predictable, such as several unrelated words."
	case CodeRepetitive:
		reason = "This password is made of repeated characters or a simple sequence, so it is easy to guess. Choose something less predictable, such as several unrelated words."
	case CodeContext:
		reason = "This password is too close to your email address or your practice's name. Choose something unrelated to them, such as several unrelated words."
	case CodeInvalid:
		reason = "This password contains a character that cannot be used, such as a null character or a damaged symbol. Type it again without copying it from elsewhere."
	}
	return &Violation{Code: code, Reason: reason}
}

// isFiller reports whether r is the kind of character people append to a
// weak password to satisfy length or composition rules.
func isFiller(r rune) bool {
	return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
}

func removeSpaces(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// isCommon reports whether lower, or lower without spaces, is blocklisted,
// either exactly or once trailing (or leading and trailing) digits and
// punctuation are stripped, as long as at least minStrippedLen code points
// remain ("password123456!!", "2024 iloveyou iloveyou!").
func (p *Policy) isCommon(lower string) bool {
	for _, s := range [2]string{lower, removeSpaces(lower)} {
		if p.blocklist.contains(s) {
			return true
		}
		for _, core := range [2]string{strings.TrimRightFunc(s, isFiller), strings.TrimFunc(s, isFiller)} {
			if core == s || utf8.RuneCountInString(core) < minStrippedLen {
				continue
			}
			if p.blocklist.contains(core) {
				return true
			}
		}
	}
	return false
}

// sequenceList holds, separated by spaces, keyboard rows, columns and
// orderings people walk along. Each is treated as cyclic and may be walked
// in either direction. Each is ASCII with no repeated character.
const sequenceList = "0123456789 abcdefghijklmnopqrstuvwxyz" +
	" 1234567890qwertyuiopasdfghjklzxcvbnm" +
	" 1234567890azertyuiopqsdfghjklmwxcvbn" +
	" 1234567890qwertzuiopasdfghjklyxcvbnm" +
	" 1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/" +
	" zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0" +
	" qazwsxedcrfvtgbyhnujmikolp" +
	" 1q2w3e4r5t6y7u8i9o0p" +
	" q1w2e3r4t5y6u7i8o9p0" +
	" !@#$%^&*()_+"

// isRepetitive reports whether s (lowercased) is trivial as a whole, with
// spaces removed, or as a trivial core of at least minStrippedLen code
// points wrapped in trivial digits and punctuation ("qwertyuiop123456789",
// "aaaaaaaaaaaaaa1!").
func isRepetitive(s []rune) bool {
	if isTrivial(s) {
		return true
	}
	noSpace := s[:0:0]
	for _, r := range s {
		if !unicode.IsSpace(r) {
			noSpace = append(noSpace, r)
		}
	}
	if len(noSpace) != len(s) && isTrivial(noSpace) {
		return true
	}
	start, end := 0, len(noSpace)
	for start < end && isFiller(noSpace[start]) {
		start++
	}
	for end > start && isFiller(noSpace[end-1]) {
		end--
	}
	if start == 0 && end == len(noSpace) || end-start < minStrippedLen {
		return false
	}
	return isTrivial(noSpace[start:end]) && isTrivialAffix(noSpace[:start]) && isTrivialAffix(noSpace[end:])
}

func isTrivialAffix(s []rune) bool {
	return len(s) <= 4 || isTrivial(s)
}

// isTrivial reports whether s has at most three distinct code points, is a
// unit of at most four code points repeated (at least twice), is any unit
// repeated at least three times, or is a walk along one of the sequences.
func isTrivial(s []rune) bool {
	n := len(s)
	if n == 0 {
		return true
	}
	if distinctAtMost(s, 3) {
		return true
	}
	if per := period(s); per <= 4 && n >= 2*per || n >= 3*per {
		return true
	}
	return isWalk(s)
}

func distinctAtMost(s []rune, k int) bool {
	seen := make([]rune, 0, k+1)
	for _, r := range s {
		found := false
		for _, x := range seen {
			if x == r {
				found = true
				break
			}
		}
		if !found {
			if len(seen) == k {
				return false
			}
			seen = append(seen, r)
		}
	}
	return true
}

// period returns the smallest p such that s[i] == s[i-p] for every i >= p
// (the Knuth-Morris-Pratt failure function), allowing a partial last unit.
func period(s []rune) int {
	n := len(s)
	fail := make([]int, n+1)
	fail[0] = -1
	k := -1
	for i := 0; i < n; i++ {
		for k >= 0 && s[k] != s[i] {
			k = fail[k]
		}
		k++
		fail[i+1] = k
	}
	return n - fail[n]
}

// isWalk reports whether s steps consistently forwards or backwards, one
// position at a time, along one of the sequences.
func isWalk(s []rune) bool {
	if len(s) < 3 {
		return false
	}
	for seq := range strings.SplitSeq(sequenceList, " ") {
		l := len(seq)
		prev := strings.IndexRune(seq, s[0])
		next := strings.IndexRune(seq, s[1])
		if prev < 0 || next < 0 {
			continue
		}
		var step int
		switch (next - prev + l) % l {
		case 1:
			step = 1
		case l - 1:
			step = l - 1 // -1 modulo l
		default:
			continue
		}
		walk := true
		for _, r := range s[1:] {
			i := strings.IndexRune(seq, r)
			if i != (prev+step)%l {
				walk = false
				break
			}
			prev = i
		}
		if walk {
			return true
		}
	}
	return false
}

// contextTokens derives the lowercase tokens of at least minContextToken
// code points from contextWords, longest first. For an email address: the
// whole address, the local part (and its words) and the domain's first
// label. For a name or slug: the whole string without spaces, without any
// separators, and each word.
func contextTokens(contextWords []string) []string {
	set := make(map[string]struct{})
	add := func(t string) {
		if utf8.RuneCountInString(t) >= minContextToken {
			set[t] = struct{}{}
		}
	}
	notAlnum := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }
	addWords := func(s string) {
		words := strings.FieldsFunc(s, notAlnum)
		add(strings.Join(words, ""))
		for _, w := range words {
			add(w)
		}
	}
	for _, w := range contextWords {
		w = strings.ToLower(strings.TrimSpace(w))
		if w == "" {
			continue
		}
		if at := strings.LastIndexByte(w, '@'); at >= 0 {
			local, domain := w[:at], w[at+1:]
			add(w)
			add(local)
			addWords(local)
			label, _, _ := strings.Cut(domain, ".")
			add(label)
			continue
		}
		add(removeSpaces(w))
		addWords(w)
	}
	tokens := make([]string, 0, len(set))
	for t := range set {
		tokens = append(tokens, t)
	}
	sort.Slice(tokens, func(i, j int) bool {
		if len(tokens[i]) != len(tokens[j]) {
			return len(tokens[i]) > len(tokens[j])
		}
		return tokens[i] < tokens[j]
	})
	return tokens
}

// tooCloseToContext removes every occurrence of every context token from
// lower (longest tokens first) and reports whether what is left, ignoring
// spaces, is shorter than minContextRemainder code points, or is itself
// blocklisted or trivial ("sunnyhills123456789").
func (p *Policy) tooCloseToContext(lower string, contextWords []string) bool {
	rest := lower
	for _, t := range contextTokens(contextWords) {
		rest = strings.ReplaceAll(rest, t, "")
	}
	if rest == lower {
		return false
	}
	rest = removeSpaces(rest)
	if utf8.RuneCountInString(rest) < minContextRemainder {
		return true
	}
	return p.isCommon(rest) || isRepetitive([]rune(rest))
}
