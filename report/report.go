// Package report renders Latchkey's printable documents with html/template: the record
// sheet of a lock, made for paper.
package report

import (
	"embed"
	"html/template"
	"io"
	"time"

	"github.com/latchkey/latchkey"
)

//go:embed templates/*.html
var templateFS embed.FS

var sheetTemplate = template.Must(template.New("sheet.html").Funcs(template.FuncMap{
	"date": func(t *time.Time) string {
		if t == nil {
			return "not recorded"
		}
		return t.Format(time.DateOnly)
	},
	"when": func(t time.Time) string { return t.Format("2006-01-02 15:04") },
}).ParseFS(templateFS, "templates/sheet.html"))

// Sheet is everything a lock's record sheet shows. Codes appear by label, slot and
// status, never by their digits.
type Sheet struct {
	Lock       *latchkey.Lock
	Door       *latchkey.Door
	Site       *latchkey.Site
	ModelName  string
	ModelFacts []Fact // a few facts about the model, with sources
	Key        *latchkey.Key
	KeySVG     template.HTML // the key drawn to scale, if the lock has a recorded key
	Codes      []CodeLine
	Holders    map[int64]string // person id to name
	Service    []*latchkey.ServiceEntry
	Receipts   []*latchkey.Receipt
	Warranty   Warranty
	Generated  time.Time
}

// Fact is one labelled line of model facts.
type Fact struct {
	Label, Value string
}

// CodeLine is one code on the lock.
type CodeLine struct {
	Label  string
	Person string
	Slot   int
	Status string
	Valid  string // always, a window, weekly hours
}

// Warranty is the warranty section.
type Warranty struct {
	State, Reason, Proof, Contact string
	Exclusions                    []string
	Deviations                    int // service entries that deviate from the maker's instructions
}

// WriteSheet renders a lock's record sheet as a standalone HTML page.
func WriteSheet(w io.Writer, s *Sheet) error {
	return sheetTemplate.Execute(w, s)
}
