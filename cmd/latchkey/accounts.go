package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
)

// Accounts and API tokens, managed on the local data directory (or --db) as its owner,
// next to the vault key: over the network they are managed through the API and the
// settings page, where a signed-in person proves who they are.

func (m *Main) userCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Accounts of people who use Latchkey (on the local data directory)"}
	group(cmd)
	var role string
	add := &cobra.Command{
		Use: "add NAME --role owner|manager|installer|viewer", Short: "Add an account; the password is read from standard input",
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			r, err := userRole(role)
			if err != nil {
				return err
			}
			hash, err := m.readNewPassword()
			if err != nil {
				return err
			}
			return m.withService(cmd, func(ctx context.Context, s *latchkey.Service) error {
				u := &latchkey.User{Name: args[0], Role: r, PasswordHash: hash}
				if err := s.CreateUser(ctx, u); err != nil {
					return err
				}
				return m.emit(u, func(w io.Writer) { fmt.Fprintf(w, "Added %s %s (user %d).\n", u.Role, u.Name, u.ID) })
			})
		}),
	}
	add.Flags().StringVar(&role, "role", "viewer", "owner, manager, installer or viewer")

	ls := &cobra.Command{
		Use: "ls", Short: "List accounts", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.withService(cmd, func(ctx context.Context, s *latchkey.Service) error {
				users, total, err := s.FindUsers(ctx, latchkey.Page{Limit: 1000})
				if err != nil {
					return err
				}
				return m.emit(listView[*latchkey.User]{users, total}, func(w io.Writer) {
					table(w, "ID\tNAME\tROLE\tSINCE", func(tw io.Writer) {
						for _, u := range users {
							fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", u.ID, u.Name, u.Role, u.CreatedAt.Format(time.DateOnly))
						}
					})
				})
			})
		}),
	}

	var newRole string
	var resetPassword bool
	set := &cobra.Command{
		Use:   "set NAME [--role ROLE] [--reset-password]",
		Short: "Change an account's role, or reset its password (read from standard input)",
		Long: `Change an account's role, or reset its password: the new password is read from
standard input, and every session and API token of the account ends. The last owner
stays an owner.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			var upd latchkey.UserUpdate
			if cmd.Flags().Changed("role") {
				r, err := userRole(newRole)
				if err != nil {
					return err
				}
				upd.Role = &r
			}
			if resetPassword {
				hash, err := m.readNewPassword()
				if err != nil {
					return err
				}
				upd.PasswordHash = &hash
			}
			if upd == (latchkey.UserUpdate{}) {
				return usagef("say what to change: --role ROLE or --reset-password")
			}
			return m.withUser(cmd, args[0], func(ctx context.Context, s *latchkey.Service, u *latchkey.User) error {
				u, err := s.UpdateUser(ctx, u.ID, upd)
				if err != nil {
					return err
				}
				return m.emit(u, func(w io.Writer) {
					fmt.Fprintf(w, "%s is %s.", u.Name, u.Role)
					if resetPassword {
						fmt.Fprint(w, " Password reset; their sessions and tokens ended.")
					}
					fmt.Fprintln(w)
				})
			})
		}),
	}
	set.Flags().StringVar(&newRole, "role", "", "owner, manager, installer or viewer")
	set.Flags().BoolVar(&resetPassword, "reset-password", false, "set a new password, read from standard input")

	rm := &cobra.Command{
		Use: "rm NAME", Short: "Remove an account with its sessions and tokens (never the last owner)", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.withUser(cmd, args[0], func(ctx context.Context, s *latchkey.Service, u *latchkey.User) error {
				if err := s.DeleteUser(ctx, u.ID); err != nil {
					return err
				}
				return m.emit(map[string]int64{"deleted": u.ID}, func(w io.Writer) { fmt.Fprintf(w, "Removed %s (user %d).\n", u.Name, u.ID) })
			})
		}),
	}
	revoke := &cobra.Command{
		Use: "revoke NAME", Short: "End every session and API token of an account", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.withUser(cmd, args[0], func(ctx context.Context, s *latchkey.Service, u *latchkey.User) error {
				if err := s.RevokeAccess(ctx, u.ID); err != nil {
					return err
				}
				return m.emit(map[string]int64{"revoked": u.ID}, func(w io.Writer) {
					fmt.Fprintf(w, "Every session and token of %s ended (a running server forgets them within 10 s).\n", u.Name)
				})
			})
		}),
	}
	cmd.AddCommand(add, ls, set, rm, revoke)
	return cmd
}

func (m *Main) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "API tokens, for the command line and integrations against a server"}
	group(cmd)
	var userName, expires string
	create := &cobra.Command{
		Use: "create NAME --user USER [--expires 90d|never]", Short: "Make an API token for a user (shown once)", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			life, err := tokenLife(expires)
			if err != nil {
				return err
			}
			return m.withUser(cmd, userName, func(ctx context.Context, s *latchkey.Service, u *latchkey.User) error {
				plain, hash := lkhttp.NewTokenSecret()
				t, err := s.CreateToken(ctx, latchkey.NewToken{UserID: u.ID, Name: args[0], Hash: hash, Life: life})
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"id": t.ID, "user": u.Name, "token": plain, "expires_at": t.ExpiresAt}, func(w io.Writer) {
					fmt.Fprintf(w, "%s\nUse it with --token or LATCHKEY_TOKEN; it is not shown again. %s.\n", plain, expiry(t))
				})
			})
		}),
	}
	create.Flags().StringVar(&userName, "user", "", "the account the token acts as (required)")
	create.Flags().StringVar(&expires, "expires", "90d", "how long it lasts: days (30d), or never")
	_ = create.MarkFlagRequired("user")

	var owner string
	ls := &cobra.Command{
		Use: "ls [--user USER]", Short: "List API tokens (every account's, or one's), never their secrets", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.withService(cmd, func(ctx context.Context, s *latchkey.Service) error {
				id := int64(-1) // every account's
				if owner != "" {
					u, err := s.FindUserByName(ctx, owner)
					if err != nil {
						return err
					}
					id = u.ID
				}
				tokens, err := s.FindTokens(ctx, id)
				if err != nil {
					return err
				}
				return m.emit(tokens, func(w io.Writer) {
					table(w, "ID\tUSER\tNAME\tMADE\tEXPIRES\tLAST USED", func(tw io.Writer) {
						for _, t := range tokens {
							fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", t.ID, t.UserID, t.Name, t.CreatedAt.Format(time.DateOnly),
								dateOr(t.ExpiresAt, "never"), dateOr(t.LastUsedAt, "not yet"))
						}
					})
				})
			})
		}),
	}
	ls.Flags().StringVar(&owner, "user", "", "only this account's tokens")
	rm := &cobra.Command{
		Use: "rm ID", Short: "Revoke an API token", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("token", args[0])
			if err != nil {
				return err
			}
			return m.withService(cmd, func(ctx context.Context, s *latchkey.Service) error {
				t, err := s.RevokeToken(ctx, id)
				if err != nil {
					return err
				}
				return m.emit(t, func(w io.Writer) {
					fmt.Fprintf(w, "Revoked token %d (%s); a running server refuses it within 10 s.\n", t.ID, t.Name)
				})
			})
		}),
	}
	cmd.AddCommand(create, ls, rm)
	return cmd
}

// withUser runs f with the account named name.
func (m *Main) withUser(cmd *cobra.Command, name string, f func(ctx context.Context, s *latchkey.Service, u *latchkey.User) error) error {
	return m.withService(cmd, func(ctx context.Context, s *latchkey.Service) error {
		u, err := s.FindUserByName(ctx, name)
		if err != nil {
			return err
		}
		return f(ctx, s, u)
	})
}

// readNewPassword reads a password from standard input and hashes it.
func (m *Main) readNewPassword() (string, error) {
	pw, err := m.readPassword()
	if err != nil {
		return "", err
	}
	return lkhttp.HashPassword(pw)
}

// userRole reads a --role value.
func userRole(s string) (latchkey.UserRole, error) {
	r := latchkey.UserRole(s)
	switch r {
	case latchkey.UserOwner, latchkey.UserManager, latchkey.UserInstaller, latchkey.UserViewer:
		return r, nil
	}
	return "", usagef("--role %q is not a role; use owner, manager, installer or viewer", s)
}

// tokenLife reads --expires: days such as 30d (or 30), or never.
func tokenLife(s string) (*time.Duration, error) {
	if s == "never" {
		never := time.Duration(0)
		return &never, nil
	}
	days, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if err != nil || days < 1 || strconv.Itoa(days) != strings.TrimSuffix(s, "d") {
		return nil, usagef("--expires %q is not a number of days (30d) or never", s)
	}
	life := time.Duration(days) * 24 * time.Hour
	return &life, nil
}

func expiry(t *latchkey.Token) string {
	if t.ExpiresAt == nil {
		return "It never expires; revoke it with 'latchkey token rm " + fmt.Sprint(t.ID) + "' when it is no longer needed"
	}
	return "It expires on " + t.ExpiresAt.Format(time.DateOnly)
}

func dateOr(t *time.Time, alt string) string {
	if t == nil {
		return alt
	}
	return t.Format(time.DateOnly)
}
