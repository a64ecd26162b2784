package api

import (
	"cmp"
	"slices"
	"strconv"
)

func quote(s string) string { return strconv.Quote(s) }

func sortStrings[S ~[]E, E cmp.Ordered](s S) { slices.Sort(s) }
