// Package image holds the berth CLI's image commands: pull, push,
// images (image ls), rmi (image rm), tag, save, load, import, history
// and image inspect, with docker's flags, output and exit statuses.
package image
