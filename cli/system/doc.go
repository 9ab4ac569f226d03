// Package system holds the berth CLI's commands about the daemon
// itself: version, info (system info), system df, system events, and
// the generic inspect that looks for a container, then an image.
package system
