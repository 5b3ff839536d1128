package fakegithub

// DeliverForTest makes the server send a payload of the test's own, so a test can
// show that CheckSpec refuses a payload GitHub would never send.
func (s *Server) DeliverForTest(event string, payload map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliver(event, payload)
}
