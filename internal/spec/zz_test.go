package spec
import ("testing";"time";"strings";"fmt")
func TestLaughs(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	start := time.Now()
	_, err := Parse([]byte(b.String()), "")
	t.Log(time.Since(start), err)
	start = time.Now()
	_, err = Override([]byte(b.String()), []string{"replicas=1"}, nil)
	t.Log(time.Since(start), err)
}
