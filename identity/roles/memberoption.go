package roles

import "slices"

// OnFor reports whether the option is on for a member with the given
// overrides: every one of the option's overrides is in place.
func (o MemberOption) OnFor(current []Override) bool {
	if len(o.Overrides) == 0 {
		return false
	}
	for _, ov := range o.Overrides {
		if !slices.Contains(current, ov) {
			return false
		}
	}
	return true
}
