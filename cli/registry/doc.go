// Package registry holds `berth login` and `berth logout`. login checks
// the credentials with the daemon (POST /auth) and keeps them in the
// CLI's config.json; pull and push send them to the daemon in
// X-Registry-Auth for the registry they belong to. logout forgets them.
package registry
