package preflight

import (
	"encoding/json"
	"io"
	"slices"
)

// SARIF writes findings as a SARIF 2.1.0 log (what GitHub code scanning reads): one run of
// the tool cutover, a rule per rule seen, a result per finding; an overridden finding carries
// an in-source suppression with its reason.
func SARIF(w io.Writer, version string, fs []Finding) error {
	type text struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID               string `json:"id"`
		ShortDescription text   `json:"shortDescription"`
		Help             text   `json:"help"`
	}
	type region struct {
		StartLine int `json:"startLine"`
	}
	type artifact struct {
		URI string `json:"uri"`
	}
	type physical struct {
		ArtifactLocation artifact `json:"artifactLocation"`
		Region           region   `json:"region"`
	}
	type location struct {
		PhysicalLocation physical `json:"physicalLocation"`
	}
	type suppression struct {
		Kind          string `json:"kind"`
		Justification string `json:"justification"`
	}
	type result struct {
		RuleID       string        `json:"ruleId"`
		Level        string        `json:"level"`
		Message      text          `json:"message"`
		Locations    []location    `json:"locations"`
		Suppressions []suppression `json:"suppressions,omitempty"`
	}
	rules := []rule{}
	results := []result{}
	for _, f := range fs {
		if !slices.ContainsFunc(rules, func(r rule) bool { return r.ID == f.Rule }) {
			rules = append(rules, rule{ID: f.Rule, ShortDescription: text{f.Message}, Help: text{f.Fix}})
		}
		r := result{RuleID: f.Rule, Level: string(f.Severity), Message: text{f.Message + " Fix: " + f.Fix},
			Locations: []location{{physical{artifact{f.File}, region{max(f.Line, 1)}}}}}
		if f.Override != "" {
			r.Suppressions = []suppression{{Kind: "inSource", Justification: f.Override}}
		}
		results = append(results, r)
	}
	log := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool": map[string]any{"driver": map[string]any{
				"name": "cutover", "version": version, "informationUri": "https://github.com/cutover/cutover", "rules": rules,
			}},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}
