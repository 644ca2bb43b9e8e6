package cli

import "testing"

func TestBaselineIsLabelled(t *testing.T) {
	got := weights(map[int]int{1: 60, -1: 20, 2: 20})
	if want := "baseline r1 20%  r1 60%  r2 20%"; got != want {
		t.Errorf("weights: got %q, want %q", got, want)
	}
}
