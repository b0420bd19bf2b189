package latchkey_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The README and the pages in docs/ are read from a clone: every link in them must lead to
// a file of the repository (and, with a #fragment, to a heading of that file), and none may
// point into the project's shared folder outside the repository, which a clone does not
// have.
func TestDocLinks(t *testing.T) {
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{"README.md"}, pages...)
	if len(pages) < 4 {
		t.Fatalf("found only %v; run the test from the repository root", pages)
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, outside := range []string{"../shared", "/work/shared"} {
			if strings.Contains(string(text), outside) {
				t.Errorf("%s mentions %q, a folder outside the repository that a clone does not have; describe what is needed in docs/ instead", page, outside)
			}
		}
		for _, l := range markdownLinks(string(text)) {
			if msg := checkLink(root, page, l.target); msg != "" {
				t.Errorf("%s:%d: link %q: %s", page, l.line, l.target, msg)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d links; the link parser is probably broken", checked)
	}
}

// checkLink says what is wrong with a link target found in page, or "" if nothing is.
func checkLink(root, page, target string) string {
	if strings.Contains(target, "../shared") {
		return "it points into the shared folder outside the repository"
	}
	if urlScheme.MatchString(target) {
		return "" // http:, https:, mailto: ... are not files of the repository
	}
	path, fragment, _ := strings.Cut(target, "#")
	var file string
	switch {
	case path == "":
		file = filepath.Join(root, page)
	case strings.HasPrefix(path, "/"):
		file = filepath.Join(root, filepath.FromSlash(path))
	default:
		file = filepath.Join(root, filepath.Dir(page), filepath.FromSlash(path))
	}
	rel, err := filepath.Rel(root, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "it leads outside the repository"
	}
	info, err := os.Stat(file)
	if err != nil {
		return "no such file in the repository"
	}
	if fragment == "" || info.IsDir() || !strings.HasSuffix(file, ".md") {
		return ""
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	if anchors := headingAnchors(string(text)); !slices.Contains(anchors, fragment) {
		return "no heading of " + filepath.ToSlash(rel) + " has the anchor #" + fragment
	}
	return ""
}

type mdLink struct {
	line   int
	target string
}

var (
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refDef     = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?`)
	codeSpan   = regexp.MustCompile("`+[^`]*`+")
	urlScheme  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// markdownLinks returns the targets of the inline links, images and reference
// definitions of a Markdown text, leaving out fenced code blocks and code spans, where
// brackets and parentheses are not links.
func markdownLinks(text string) []mdLink {
	var out []mdLink
	for i, line := range proseLines(text) {
		if line == "" {
			continue
		}
		line = codeSpan.ReplaceAllString(line, "")
		if m := refDef.FindStringSubmatch(line); m != nil {
			out = append(out, mdLink{i + 1, m[1]})
			continue
		}
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			out = append(out, mdLink{i + 1, m[1]})
		}
	}
	return out
}

// headingAnchors returns the anchors GitHub gives the headings of a Markdown text: the
// heading's text in lower case, without punctuation, spaces turned into hyphens, and a
// number added to repeats.
func headingAnchors(text string) []string {
	var out []string
	seen := map[string]int{}
	for _, line := range proseLines(text) {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		heading := strings.TrimLeft(line, "#")
		if heading != "" && heading[0] != ' ' {
			continue // "#word" is not a heading
		}
		// A link in a heading shows only its text.
		heading = inlineLink.ReplaceAllStringFunc(heading, func(l string) string {
			return l[strings.Index(l, "[")+1 : strings.Index(l, "]")]
		})
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
				b.WriteRune(r)
			}
		}
		anchor := b.String()
		if n := seen[anchor]; n > 0 {
			seen[anchor]++
			anchor += "-" + strconv.Itoa(n)
		} else {
			seen[anchor] = 1
		}
		out = append(out, anchor)
	}
	return out
}

// The link checker itself: what it must find and what it must leave alone.
func TestMarkdownLinkParsing(t *testing.T) {
	text := strings.Join([]string{
		"# Title",
		"See [the spec](../shared/SPEC.md) and [facts](docs/kwikset-facts.md#1-smartkey) here,",
		"![a drawing](key.svg \"the key\") and [the web](https://example.com/a_(b)).",
		"Not a link: `[x](nowhere.md)`.",
		"```sh",
		"echo '[y](inside-code.md)'",
		"```",
		"[ref]: docs/security.md",
		"## For contributors: where the specification's sections are described",
		"## Radios (facts §3.11; [protocols.md](protocols.md))",
		"## Title",
	}, "\n")
	var got []string
	for _, l := range markdownLinks(text) {
		got = append(got, l.target)
	}
	want := []string{"../shared/SPEC.md", "docs/kwikset-facts.md#1-smartkey", "key.svg", "https://example.com/a_(b", "docs/security.md", "protocols.md"}
	if !slices.Equal(got, want) {
		t.Errorf("links = %q, want %q", got, want)
	}
	anchors := headingAnchors(text)
	wantAnchors := []string{"title", "for-contributors-where-the-specifications-sections-are-described", "radios-facts-311-protocolsmd", "title-1"}
	if !slices.Equal(anchors, wantAnchors) {
		t.Errorf("anchors = %q, want %q", anchors, wantAnchors)
	}

	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		target string
		bad    bool
	}{
		{"docs/safety.md", false},
		{"docs/concepts.md#accounts-roles-and-permissions", false},
		{"https://example.com/missing.md", false},
		{"#documentation", false},
		{"../shared/SPEC.md", true},
		{"docs/no-such-page.md", true},
		{"docs/concepts.md#no-such-heading", true},
		{"../README.md", true}, // outside the repository, even if such a file exists there
	} {
		if msg := checkLink(root, "README.md", tt.target); (msg != "") != tt.bad {
			t.Errorf("checkLink(%q) = %q; want a complaint: %v", tt.target, msg, tt.bad)
		}
	}
}

// proseLines returns a Markdown text's lines with those of fenced code blocks (and the
// fences) blanked, so that line numbers stay those of the file.
func proseLines(text string) []string {
	lines := strings.Split(text, "\n")
	fence := ""
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		switch {
		case fence != "":
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			lines[i] = ""
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			fence = trimmed[:3]
			lines[i] = ""
		}
	}
	return lines
}
