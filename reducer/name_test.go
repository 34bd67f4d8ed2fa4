package reducer

import (
	"regexp"
	"testing"
)

// TestValidName checks validName against the identifier pattern it
// replaces.
func TestValidName(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	for _, name := range []string{"", "A", "a", "_", "_1", "x1", "AddPost", "add_post_2", "1x", "9", "no way", "a-b", "é", "aé", "a\x00", "Z", "z", "@", "[", "`", "{", "/", ":"} {
		if got, want := validName(name), re.MatchString(name); got != want {
			t.Errorf("validName(%q) = %v, want %v", name, got, want)
		}
	}
}
