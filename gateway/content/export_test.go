package content

// RankHolders exposes rankHolders to the external tests: the node ids in
// the order a read asks them.
func (s *Service) RankHolders(ids []string) []string {
	var out []string
	for _, h := range s.rankHolders(ids) {
		out = append(out, h.Node)
	}
	return out
}
