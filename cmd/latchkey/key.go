package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
	"github.com/latchkey/latchkey/keying"
)

func (m *Main) keyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Mechanical keys: check, generate and draw bittings; record keys and their copies",
	}
	group(cmd)
	cmd.AddCommand(m.keyCheckCommand(), m.keyGenerateCommand(), m.keyDrawCommand())
	cmd.AddCommand(m.keyInventoryCommands()...)
	return cmd
}

// keySpec returns the bitting spec of a catalog model's cylinder.
func (m *Main) keySpec(model string) (keying.Spec, error) { return cylinderSpec(m.Catalog, model) }

// cylinderSpec returns the bitting spec of a catalog model's cylinder. Depth 7 is allowed
// only where the catalog confirms the model takes it (facts §2).
func cylinderSpec(c *catalog.Catalog, model string) (keying.Spec, error) {
	md, err := c.Model(model)
	if err != nil {
		return keying.Spec{}, err
	}
	if !md.Keyway.Known || md.Keyway.Value != keying.KW1.Keyway {
		return keying.Spec{}, latchkey.Errorf(latchkey.EINVALID,
			"The %s has no KW1 key cylinder in the catalog; use a SmartKey model such as 'smartkey'.", md.Name)
	}
	spec := keying.KW1
	spec.AllowDepth7 = md.Depth7.Known && md.Depth7.Value
	return spec, nil
}

// parseBitting reads a bitting for the cylinder of a catalog model.
func (m *Main) parseBitting(model, text string) (keying.Spec, keying.Bitting, error) {
	spec, err := m.keySpec(model)
	if err != nil {
		return spec, "", err
	}
	b, err := spec.Parse(text)
	return spec, b, err
}

type bittingView struct {
	Bitting string `json:"bitting"`
	Keyway  string `json:"keyway"`
	Depths  []int  `json:"depths"`
	Valid   bool   `json:"valid"`
}

func (m *Main) keyCheckCommand() *cobra.Command {
	var model string
	cmd := &cobra.Command{
		Use:   "check BITTING",
		Short: "Check that a bitting (such as 35242) is a valid key for the cylinder",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			spec, b, err := m.parseBitting(model, args[0])
			if err != nil {
				return err
			}
			view := bittingView{Bitting: string(b), Keyway: spec.Keyway, Depths: b.Depths(), Valid: true}
			return m.emit(view, func(w io.Writer) {
				fmt.Fprintf(w, "%s is a valid %s bitting: depths %v from bow to tip, %d cuts, MACS %d.\n",
					b, spec.Keyway, b.Depths(), spec.Cuts, spec.MACS)
			})
		}),
	}
	cmd.Flags().StringVar(&model, "model", "smartkey", "catalog model of the cylinder")
	return cmd
}

type generateKeysView struct {
	Keyway   string   `json:"keyway"`
	Bittings []string `json:"bittings"`
	SiteID   int64    `json:"site_id,omitempty"`
	Avoided  int      `json:"keys_avoided,omitempty"` // with --site: the site's recorded keys kept clear of
}

func (m *Main) keyGenerateCommand() *cobra.Command {
	var (
		model  string
		count  int
		avoid  []string
		apart  bool
		siteID int64
	)
	cmd := &cobra.Command{
		Use:   "generate [--site ID]",
		Short: "Generate new random bittings, clear of bittings used before",
		Long: `Generate new random KW1 bittings with cryptographic randomness. None is within one
cut of a bitting given with --avoid (keys used before on the site); with --apart, none is
within one cut of another generated one either (for the keys of different doors).

With --site, none is within one cut of a key recorded on that site either (active, lost
or retired): their bittings are compared where they are kept, sealed, and never shown.
That generation is recorded in the audit log, and someone who may not reveal key cuts
gets at most 3 bittings at a time.`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			spec, err := m.keySpec(model)
			if err != nil {
				return err
			}
			if count < 1 || count > 10000 {
				return latchkey.Errorf(latchkey.EINVALID, "--count must be from 1 to 10000.")
			}
			opt := keying.GenerateOptions{Apart: apart, Random: m.Random}
			for _, a := range avoid {
				b, err := spec.Parse(a)
				if err != nil {
					return latchkey.Errorf(latchkey.EINVALID, "--avoid %s: %s", a, latchkey.ErrorMessage(err))
				}
				opt.Avoid = append(opt.Avoid, b)
			}
			if cmd.Flags().Changed("site") {
				return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
					req := latchkey.BittingRequest{SiteID: siteID, ModelID: model, Count: count, Apart: apart}
					for _, b := range opt.Avoid {
						req.Avoid = append(req.Avoid, string(b))
					}
					g, err := s.GenerateBittings(ctx, req)
					if err != nil {
						return err
					}
					view := generateKeysView{Keyway: spec.Keyway, Bittings: g.Bittings, SiteID: g.SiteID, Avoided: g.Avoided}
					return m.emit(view, func(w io.Writer) {
						fmt.Fprintln(w, strings.Join(view.Bittings, "\n"))
						fmt.Fprintf(m.Stderr, "Clear of the %s recorded on site %d.\n", plural(g.Avoided, "key"), g.SiteID)
					})
				})
			}
			bs, err := spec.Generate(count, opt)
			if err != nil {
				return err
			}
			view := generateKeysView{Keyway: spec.Keyway, Bittings: make([]string, len(bs))}
			for i, b := range bs {
				view.Bittings[i] = string(b)
			}
			return m.emit(view, func(w io.Writer) {
				fmt.Fprintln(w, strings.Join(view.Bittings, "\n"))
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "smartkey", "catalog model of the cylinder")
	f.IntVar(&count, "count", 1, "how many bittings")
	f.StringSliceVar(&avoid, "avoid", nil, "bittings used before, comma-separated (35242,46353)")
	f.BoolVar(&apart, "apart", false, "keep the generated bittings apart from each other too")
	f.Int64Var(&siteID, "site", 0, "keep clear of the keys recorded on this site too")
	return cmd
}

func (m *Main) keyDrawCommand() *cobra.Command {
	var model, out string
	cmd := &cobra.Command{
		Use:   "draw BITTING",
		Short: "Draw the key to scale as SVG",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			spec, b, err := m.parseBitting(model, args[0])
			if err != nil {
				return err
			}
			var svg bytes.Buffer
			if err := spec.Draw(&svg, b); err != nil {
				return err
			}
			if out == "" || out == "-" {
				if m.json {
					return m.emit(map[string]string{"bitting": string(b), "svg": svg.String()}, nil)
				}
				_, err := m.Stdout.Write(svg.Bytes())
				return err
			}
			if err := os.WriteFile(out, svg.Bytes(), 0o644); err != nil {
				return latchkey.Errorf(latchkey.EINVALID, "Cannot write the drawing to %s: %v. Check the folder exists and is writable.", out, err)
			}
			return m.emit(map[string]string{"bitting": string(b), "file": out}, func(w io.Writer) {
				fmt.Fprintf(w, "Drew %s key %s to %s (prints at 1:1).\n", spec.Keyway, b, out)
			})
		}),
	}
	cmd.Flags().StringVar(&model, "model", "smartkey", "catalog model of the cylinder")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the SVG to this file instead of standard output")
	return cmd
}
