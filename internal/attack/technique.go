package attack

import "strings"

// Technique is one ATT&CK Enterprise technique or sub-technique.
type Technique struct {
	ID string `json:"id"` // T1098 or, for a sub-technique, T1098.001
	// Name is ATT&CK's name; a sub-technique's is prefixed with its parent's,
	// "Account Manipulation: Additional Cloud Credentials", because sub-names
	// alone ("Cloud Account", "Domains") repeat under several parents.
	Name string `json:"name"`
	// Tactics are the short names of the tactics the technique serves, in
	// matrix order; never empty.
	Tactics []string `json:"tactics"`
	// IaaS says ATT&CK lists the technique for the IaaS platform.
	IaaS bool `json:"iaas"`
	// Cloud says the coverage matrix counts the technique: IaaS, or common
	// in AWS intrusions though ATT&CK files it under other platforms.
	Cloud bool `json:"cloud"`
}

// Parent returns the id of the technique a sub-technique belongs to, and ""
// for a technique that is not a sub-technique.
func (t Technique) Parent() string {
	if parent, _, ok := strings.Cut(t.ID, "."); ok {
		return parent
	}
	return ""
}

// validTechniqueID reports whether id has the shape of an ATT&CK technique
// id: T and four digits, optionally a dot and three more.
func validTechniqueID(id string) bool {
	if len(id) != 5 && len(id) != 9 {
		return false
	}
	if id[0] != 'T' || !digits(id[1:5]) {
		return false
	}
	return len(id) == 5 || id[5] == '.' && digits(id[6:])
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
