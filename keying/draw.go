package keying

import (
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
)

// Drawing geometry, in inches. The blade's straight back edge lies on y = baseY; heights
// are measured up from it, as the depth table measures them (facts §2).
const (
	shoulderX = 1.00 // the bow occupies x < shoulderX
	baseY     = 0.60
	marginIn  = 0.10
	tipLenIn  = 0.24 // blade beyond the last cut position, to the tip
	tipDropIn = 0.20 // how far the tip's top slope falls
)

// Draw writes an SVG drawing of the key to scale: the blade's cut profile computed from
// the spacing and depth tables, a bow labelled with the keyway and the bitting, and the
// number and depth of each cut. Its size is set in inches, so it prints at 1:1; one user
// unit is a thousandth of an inch (a "mil", the unit key specifications use).
//
// Cut flanks are drawn at 45°: the cut angle is not in the facts, and it moves no cut
// root, which is what the depth table fixes.
func (s Spec) Draw(w io.Writer, b Bitting) error {
	if err := s.Validate(b); err != nil {
		return err
	}
	return s.draw(w, b.Depths(), string(b))
}

// DrawBlank writes a drawing of an uncut key of the keyway, to scale: the shape a person
// looks for at the door (the bow, the shoulder that stops at the cylinder's face, the
// blade), with the cut positions marked but no cut made, so that it shows no key that
// opens anything.
func (s Spec) DrawBlank(w io.Writer) error {
	depths := make([]int, s.Cuts)
	for i := range depths {
		depths[i] = s.MinDepth // the shallowest depth is the uncut blade
	}
	return s.draw(w, depths, "")
}

// draw writes the drawing of a key cut to depths; bitting labels it, and a blank ("")
// shows no depth numbers.
func (s Spec) draw(w io.Writer, depths []int, bitting string) error {
	last := shoulderX + s.SpacingIn[len(s.SpacingIn)-1]
	tipX := last + s.RootIn/2 + tipLenIn
	width := tipX + marginIn
	height := baseY + marginIn + 0.05

	var sb strings.Builder
	title := fmt.Sprintf("%s key, bitting %s, drawn to scale", s.Keyway, bitting)
	if bitting == "" {
		title = fmt.Sprintf("an uncut %s key, drawn to scale", s.Keyway)
	}
	fmt.Fprintf(&sb, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%.3fin" height="%.3fin" viewBox="0 0 %s %s" data-keyway="%s" data-bitting="%s" data-unit="0.001in">
<title>%s</title>
`, width, height, mil(width), mil(height), s.Keyway, bitting, title)
	// Presentation attributes rather than a <style> element, so that the drawing shows
	// under a strict Content-Security-Policy when it is inlined in a page.
	const (
		part  = `fill="#d9d2b8" stroke="#333" stroke-width="6"`
		label = `font-family="sans-serif" fill="#222"`
		guide = `stroke="#888" stroke-width="3" stroke-dasharray="10 10"`
	)
	// Bow: a rounded head to hold, left of the shoulder.
	fmt.Fprintf(&sb, `<rect class="bow" %s x="%s" y="%s" width="%s" height="%s" rx="120"/>
`, part, mil(marginIn), mil(baseY-0.50), mil(shoulderX-marginIn+0.02), mil(0.56))
	fmt.Fprintf(&sb, `<text class="label" %s x="%s" y="%s" font-size="70">%s</text>
<text class="label" %s x="%s" y="%s" font-size="110" font-weight="bold">%s</text>
`, label, mil(marginIn+0.09), mil(baseY-0.30), html.EscapeString(s.Keyway), label, mil(marginIn+0.09), mil(baseY-0.15), html.EscapeString(bitting))

	// Blade: the top edge is the lower envelope of the cut profiles.
	fmt.Fprintf(&sb, `<polygon id="blade" class="blade" %s points="%s"/>
`, part, s.bladePoints(depths, tipX))

	for i, d := range depths {
		x := shoulderX + s.SpacingIn[i]
		y := baseY - s.DepthIn[d]
		fmt.Fprintf(&sb, `<line class="guide" %s data-cut="%d" data-depth="%d" x1="%s" y1="%s" x2="%s" y2="%s"/>
`, guide, i+1, d, mil(x), mil(y), mil(x), mil(baseY-s.BladeIn-0.03))
		if bitting != "" {
			fmt.Fprintf(&sb, `<text class="label" %s x="%s" y="%s" font-size="55" text-anchor="middle">%d</text>
`, label, mil(x), mil(baseY-s.BladeIn-0.045), d)
		}
	}
	// A one-inch scale bar to check the print.
	fmt.Fprintf(&sb, `<line id="scale" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333" stroke-width="6"/>
<text class="label" %s x="%s" y="%s" font-size="45">1 in</text>
</svg>
`, mil(shoulderX), mil(baseY+0.06), mil(shoulderX+1), mil(baseY+0.06), label, mil(shoulderX+1.02), mil(baseY+0.075))
	_, err := io.WriteString(w, sb.String())
	return err
}

// mil formats inches as thousandths of an inch, the drawing's user unit.
func mil(in float64) string { return fmt.Sprintf("%.1f", in*1000) }

// bladePoints returns the blade outline. Each cut i is a flat root of width RootIn at
// height h_i, with 45° flanks rising from it: profile_i(x) = h_i + max(0, |x-c_i| - r).
// The top edge is min(uncut, profile_i...), which is piecewise linear, so evaluating it at
// every breakpoint (roots, flank meetings, flanks meeting the uncut edge, and each cut's
// centre) traces it exactly.
func (s Spec) bladePoints(depths []int, tipX float64) string {
	r := s.RootIn / 2
	centres := make([]float64, len(depths))
	heights := make([]float64, len(depths))
	for i, d := range depths {
		centres[i] = shoulderX + s.SpacingIn[i]
		heights[i] = s.DepthIn[d]
	}
	top := func(x float64) float64 {
		h := s.BladeIn
		for i, c := range centres {
			h = min(h, heights[i]+max(0, abs64(x-c)-r))
		}
		return h
	}
	xs := []float64{shoulderX}
	for i, c := range centres {
		drop := s.BladeIn - heights[i]
		xs = append(xs, c-r-drop, c-r, c, c+r, c+r+drop)
		if i+1 < len(centres) {
			xs = append(xs, (heights[i+1]-heights[i]+c+centres[i+1])/2)
		}
	}
	tipStart := tipX - tipLenIn/2
	var pts []string
	point := func(x, y float64) { pts = append(pts, mil(x)+","+mil(y)) }
	slices.Sort(xs)
	for _, x := range xs {
		if x >= shoulderX && x <= tipStart {
			point(x, baseY-top(x))
		}
	}
	point(tipStart, baseY-top(tipStart))
	point(tipX, baseY-s.BladeIn+tipDropIn)
	point(tipX, baseY)
	point(shoulderX, baseY)
	return strings.Join(pts, " ")
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
