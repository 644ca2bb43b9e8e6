package flags

// version is a parsed semantic version (semver.org 2.0.0). pre is the pre-release part
// without its hyphen, a substring of the input, so parsing does not allocate. Build metadata
// is accepted and ignored, as the standard says.
type version struct {
	major, minor, patch uint64
	pre                 string
}

// parseVersion parses "1.2.3", "v1.2.3", "1.2.3-rc.1+build.5". Missing minor or patch
// ("1", "1.2") count as 0, since clients often report short versions.
func parseVersion(s string) (version, bool) {
	var v version
	if len(s) > 0 && (s[0] == 'v' || s[0] == 'V') {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '+' {
			s = s[:i]
			break
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			v.pre, s = s[i+1:], s[:i]
			if v.pre == "" {
				return v, false
			}
			break
		}
	}
	parts := [3]*uint64{&v.major, &v.minor, &v.patch}
	for i := 0; i < 3; i++ {
		n, rest, ok := parseUint(s)
		if !ok {
			return v, false
		}
		*parts[i] = n
		if rest == "" {
			return v, true
		}
		if rest[0] != '.' || i == 2 {
			return v, false
		}
		s = rest[1:]
	}
	return v, true
}

// parseUint reads leading decimal digits (at least one, at most 18).
func parseUint(s string) (uint64, string, bool) {
	var n uint64
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if i == 18 {
			return 0, s, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, s[i:], i > 0
}

// compareVersions returns -1, 0 or +1 with semver precedence.
func compareVersions(a, b version) int {
	if c := cmpUint(a.major, b.major); c != 0 {
		return c
	}
	if c := cmpUint(a.minor, b.minor); c != 0 {
		return c
	}
	if c := cmpUint(a.patch, b.patch); c != 0 {
		return c
	}
	switch {
	case a.pre == b.pre:
		return 0
	case a.pre == "": // a release outranks its pre-releases
		return 1
	case b.pre == "":
		return -1
	}
	return comparePre(a.pre, b.pre)
}

// comparePre compares dot-separated pre-release identifiers: numeric ones numerically and
// below alphanumeric ones, others in ASCII order; a shorter list that is a prefix ranks lower.
func comparePre(a, b string) int {
	for a != "" && b != "" {
		var x, y string
		x, a = cutDot(a)
		y, b = cutDot(b)
		xn, xr, xok := parseUint(x)
		yn, yr, yok := parseUint(y)
		xNum, yNum := xok && xr == "", yok && yr == ""
		switch {
		case xNum && yNum:
			if c := cmpUint(xn, yn); c != 0 {
				return c
			}
		case xNum:
			return -1
		case yNum:
			return 1
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

func cutDot(s string) (string, string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
