package report

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"strings"
)

// The page report.html: the compatibility grid as a picture, one file with no network, no
// external script or font, each cell opening its requirements, failing requests and re-run
// command (a <details> element: no script needed).
var page = template.Must(template.New("report").Funcs(template.FuncMap{"mark": dot}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>opconform conformance report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.verdict { padding: .6rem .8rem; border-radius: 6px; background: #eef6ee; }
.verdict.broken { background: #fbeaea; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; vertical-align: top; text-align: left; }
thead th { background: #f6f8fa; font-weight: 600; }
td.cell { min-width: 9rem; }
td.works { background: #d8f3dc; } td.works-in-part { background: #fff3bf; }
td.refused-by-design { background: #dbe4ff; } td.breaks { background: #ffc9c9; } td.not-run-here { background: #f1f3f5; color: #6a737d; }
summary { cursor: pointer; font-weight: 600; }
.why { font-weight: normal; display: block; font-size: .85em; }
.detail { margin-top: .4rem; font-size: .85em; }
.detail li.failing { color: #a61e1e; }
code { font: .85em ui-monospace, monospace; background: #f6f8fa; padding: 0 .2em; word-break: break-all; }
.legend > span { margin-right: 1rem; }
.dot { display: inline-block; width: .8em; height: .8em; border-radius: 50%; border: 1px solid #495057; margin-right: .25em; vertical-align: -.05em; }
.dot.works { background: #2b8a3e; } .dot.works-in-part { background: #f59f00; } .dot.refused-by-design { background: #3b5bdb; }
.dot.breaks { background: #c92a2a; } .dot.not-run-here { background: #ced4da; }
</style>
</head>
<body>
<h1>opconform conformance report</h1>
<p class="verdict{{if .Broken}} broken{{end}}" id="verdict">{{.Verdict}}</p>
<p class="legend">{{range .Legend}}<span>{{mark .}} {{.}}</span>{{end}}</p>
{{range .Tiers}}
<section class="tier" data-tier="{{.Name}}">
<h2>Does the client work with the operator? Tier {{.Name}}</h2>
<table class="grid">
<thead><tr><th>client \ operator</th>{{range .Operators}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr><th>{{.Client}}</th>{{range .Cells}}{{if .ID}}<td class="cell {{.Class}}" data-cell="{{.ID}}" data-verdict="{{.Verdict}}">
<details><summary>{{mark .Verdict}} {{.Verdict}}{{if .Why}}<span class="why">{{.Why}}</span>{{end}}</summary>
<div class="detail">
<ul>{{range .Requirements}}<li{{if .Failing}} class="failing"{{end}}><code>{{.ID}}</code> {{.Outcome}}{{if .Reason}} ({{.Reason}}){{end}}{{if .Detail}}: {{.Detail}}{{end}}</li>{{end}}</ul>
{{if .Rerun}}<p>re-run: <code>{{.Rerun}}</code></p>{{end}}
</div></details></td>{{else}}<td></td>{{end}}{{end}}</tr>
{{end}}</tbody>
</table>
</section>
{{end}}
{{if .Controls}}
<h2>Negative controls</h2>
<table class="controls">
<thead><tr><th>control</th><th>side</th><th>cell</th><th>requirement</th><th>caught</th></tr></thead>
<tbody>{{range .Controls}}<tr data-control="{{.Name}}" data-caught="{{.Caught}}"><td>{{.Name}}</td><td>{{.Side}}</td><td><code>{{.Cell}}</code></td><td><code>{{.Requirement}}</code></td><td>{{if .Caught}}caught{{else}}<strong>not caught</strong>: {{.Detail}}{{end}}</td></tr>{{end}}</tbody>
</table>
{{end}}
</body>
</html>
`))

// dot is a verdict's coloured mark (the page needs no emoji font).
func dot(v Compatibility) template.HTML {
	return template.HTML(`<span class="dot ` + verdictClass(v) + `"></span>`)
}

// verdictClass is a verdict as a CSS class: works-in-part.
func verdictClass(v Compatibility) string { return strings.ReplaceAll(string(v), " ", "-") }

type pageData struct {
	Verdict  string
	Broken   bool
	Legend   []Compatibility
	Tiers    []pageTier
	Controls []Control
}

type pageTier struct {
	Name      string
	Operators []string
	Rows      []pageRow
}

type pageRow struct {
	Client string
	Cells  []pageCell
}

type pageCell struct {
	ID, Class, Why, Rerun string
	Verdict               Compatibility
	Requirements          []pageRequirement
}

type pageRequirement struct {
	ID, Outcome, Reason, Detail string
	Failing                     bool
}

// HTML renders report.html: the compatibility grid of released versions per tier, then the
// negative controls.
func (r *Report) HTML() (string, error) {
	verdict := strings.TrimLeft(strings.ReplaceAll(r.Verdict(), "**", ""), "✅❌ ") // the page colours it instead
	d := pageData{Verdict: verdict, Broken: r.Failing(), Legend: []Compatibility{Works, WorksInPart, RefusedByDesign, Breaks, NotRunHere}}
	for _, tier := range r.tiers() {
		clients, operators := r.axesOf(tier, Cell.Released)
		if len(clients) == 0 {
			continue
		}
		t := pageTier{Name: tier, Operators: operators}
		for _, cl := range clients {
			row := pageRow{Client: cl}
			for _, op := range operators {
				c, ok := r.cellAt(tier, cl, op)
				if !ok {
					row.Cells = append(row.Cells, pageCell{})
					continue
				}
				v, why := c.Compatibility()
				pc := pageCell{ID: c.ID, Verdict: v, Class: verdictClass(v), Why: why, Rerun: c.Rerun}
				for _, req := range c.Requirements {
					pc.Requirements = append(pc.Requirements, pageRequirement{ID: string(req.ID), Outcome: string(req.Outcome), Reason: req.Reason, Detail: req.Detail, Failing: req.Outcome.Failing()})
				}
				row.Cells = append(row.Cells, pc)
			}
			t.Rows = append(t.Rows, row)
		}
		d.Tiers = append(d.Tiers, t)
	}
	d.Controls = r.Controls()
	var b bytes.Buffer
	if err := page.Execute(&b, d); err != nil {
		return "", fmt.Errorf("rendering report.html: %w", err)
	}
	return b.String(), nil
}

// WriteHTML writes HTML to path.
func (r *Report) WriteHTML(path string) error {
	page, err := r.HTML()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	return nil
}
