package spec
import ("testing";"time";"strings";"fmt";"github.com/goccy/go-yaml/lexer";"github.com/goccy/go-yaml/parser")
func TestFlat(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ { fmt.Fprintf(&b, "k%d: value %d\n", i, i) }
	var c strings.Builder
	c.WriteString("a: [")
	for i := 0; c.Len() < 1<<20; i++ { fmt.Fprintf(&c, "v%d, ", i) }
	c.WriteString("x]\n")
	for _, doc := range []string{b.String(), c.String()} {
		start := time.Now()
		tks := lexer.Tokenize(doc)
		parser.Parse(tks, 0)
		t.Log(time.Since(start))
		start = time.Now()
		Parse([]byte(doc), "")
		t.Log(time.Since(start))
	}
}
