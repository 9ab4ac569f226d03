// Package registry holds `berth login` and `berth logout`, with the
// docker CLI's rules for where credentials live. login checks the
// credentials with the daemon (POST /auth), then stores them through the
// credential helper config.json names for the registry (credHelpers,
// else credsStore), leaving an empty placeholder under auths, or, with no
// helper, under auths itself (and warns that they are unencrypted, as
// docker does); an identity token the daemon answers replaces the
// password. logout erases them through the same helper and drops the
// auths entries; a helper that fails is warned about and config.json is
// kept. pull and push find them again through command.CLI.RegistryAuth.
package registry
