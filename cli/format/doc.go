// Package format turns API values into what the berth CLI prints: sizes
// ("1.23MB"), ages ("3 minutes ago"), and tables or lines from docker's
// --format syntax ("table {{.Repository}}\t{{.Tag}}", "json", or any Go
// template with docker's template functions).
//
// A command describes its rows as values whose exported methods are the
// fields a template may name ({{.ID}}, {{.Size}}); the "json" format
// prints those same fields as one JSON object per row.
package format
