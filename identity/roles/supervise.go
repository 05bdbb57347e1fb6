package roles

// CanSupervise reports whether effective permissions perms let a member be
// chosen as someone's supervisor: a permission with the supervisees scope,
// or a co-signature permission (the rule SetSupervisors applies). Forms use it
// to offer only members SetSupervisors would accept.
func CanSupervise(perms []string) bool { return supervises(perms) }

// CanCosign reports which co-signatures a supervisor with effective
// permissions perms may be required to give: progress notes, treatment plans.
func CanCosign(perms []string) (notes, plans bool) {
	return Allows(perms, PermCosignNotesForSupervisees), Allows(perms, PermCosignPlansForSupervisees)
}
