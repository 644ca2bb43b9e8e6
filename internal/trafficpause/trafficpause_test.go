package trafficpause

import (
	"testing"
	"time"
)

func TestSetClearAll(t *testing.T) {
	d := Open(t.TempDir() + "/paused")
	if all, err := d.All(); err != nil || len(all) != 0 {
		t.Fatalf("empty: %v %v", all, err)
	}
	if err := d.Set(Pause{Service: "db", Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := d.Set(Pause{Service: "db", Timeout: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	all, err := d.All()
	if err != nil || len(all) != 1 || all[0].Timeout != 2*time.Minute {
		t.Fatalf("after two Set: %+v %v, want db with 2m", all, err)
	}
	if err := d.Set(Pause{Service: "../x"}); err == nil {
		t.Fatal("a name with a slash was accepted")
	}
	if err := d.Clear("db"); err != nil {
		t.Fatal(err)
	}
	if all, _ := d.All(); len(all) != 0 {
		t.Fatalf("after Clear: %+v", all)
	}
}
