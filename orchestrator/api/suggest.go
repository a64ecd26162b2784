package api

import (
	"strings"
	"unicode/utf8"
)

// closest returns the candidate nearest to name for a "did you mean"
// hint, and whether one is near enough to suggest. Names are compared
// case-insensitively by edit distance (insertions, deletions,
// substitutions and transpositions of adjacent characters each count
// one): "Deplyment" and "deployment" both find "Deployment". A candidate
// is near enough when its distance is at most a quarter of name's length
// (at least 1), so a short name is not matched to an unrelated one ("Job"
// does not suggest "Pod"). Ties go to the earlier candidate; a candidate
// equal to name is never suggested.
func closest(name string, candidates []string) (string, bool) {
	limit := max(1, utf8.RuneCountInString(name)/4)
	lower := strings.ToLower(name)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if c == name {
			continue
		}
		if d := editDistance(lower, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best, bestDist <= limit
}

// editDistance is the optimal string alignment distance between a and b,
// counted in runes: the Levenshtein distance with adjacent transpositions
// counting one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows suffice: the transposition looks two rows back.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
