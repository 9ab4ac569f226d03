// Package command holds what every berth CLI command shares: the CLI
// value with its streams, its lazily made API client (negotiating the
// API version with berthd on first use), the config file and registry
// credentials; the errors that carry an exit status; and the argument
// checks that word their errors as the docker CLI does.
//
// Commands live in the packages beside this one (image, container,
// system, registry); package cli assembles them under the root command.
package command
