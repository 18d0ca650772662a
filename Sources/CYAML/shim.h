// libyaml, the C reference YAML parser (Debian: libyaml-dev). Linked statically from libyaml.a
// (see SecretAgentCore's linker settings), so the binary needs no libyaml at run time.
#include <yaml.h>
