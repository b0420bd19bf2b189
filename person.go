package latchkey

// PersonRole says how a person relates to the locks: it decides defaults such as whether
// their codes need a schedule.
type PersonRole string

// Person roles (SPEC §2).
const (
	RoleOwner   PersonRole = "owner"
	RoleFamily  PersonRole = "family"
	RoleTenant  PersonRole = "tenant"
	RoleGuest   PersonRole = "guest"
	RoleService PersonRole = "service"
)

// Person is someone who holds keys or codes.
type Person struct {
	ID    int64      `json:"id"`
	Name  string     `json:"name"`
	Role  PersonRole `json:"role"`
	Phone string     `json:"phone,omitempty"`
	Email string     `json:"email,omitempty"`
}

// Validate reports whether the person's fields are acceptable.
func (p *Person) Validate() error {
	if err := validateName("Person name", p.Name); err != nil {
		return err
	}
	if err := validateText("Phone", p.Phone, maxPhoneLen, false); err != nil {
		return err
	}
	if err := validateText("Email", p.Email, maxEmailLen, false); err != nil {
		return err
	}
	return p.Role.Validate()
}

// Validate reports whether r is one of the person roles.
func (r PersonRole) Validate() error {
	switch r {
	case RoleOwner, RoleFamily, RoleTenant, RoleGuest, RoleService:
		return nil
	default:
		return Errorf(EINVALID, "Unknown role %q; use owner, family, tenant, guest or service.", r)
	}
}
