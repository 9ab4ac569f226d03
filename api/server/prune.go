package server

import (
	"net/http"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/network"
)

// addEmptyPrunes answers, as fallbacks, the prunes of the parts berthd
// does not have yet, builds and user networks: there is nothing of them
// to remove, and `docker system prune` asks every part in turn. A router
// for those parts takes these routes over.
func (s *Server) addEmptyPrunes() {
	s.fallback("POST /networks/prune", func(w http.ResponseWriter, r *http.Request) error {
		return writeJSON(w, http.StatusOK, network.PruneReport{NetworksDeleted: []string{}})
	})
	s.fallback("POST /build/prune", func(w http.ResponseWriter, r *http.Request) error {
		return writeJSON(w, http.StatusOK, build.CachePruneReport{CachesDeleted: []string{}})
	})
}
