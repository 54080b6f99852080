// Command schema-provider is a schema-only stand-in for a Terraform provider. It serves the
// argument schema that dev/terraform/provider-schema.ts extracted from the real provider's
// published schema (test/unit/terraform/fixtures/provider-schemas.json), so that OpenTofu can run
// `tofu validate` and `tofu test` with `mock_provider` against it. It implements no behaviour:
// every create/read/update/delete fails, so it can never be mistaken for the provider in a plan
// or apply with real resources; under mock_provider OpenTofu never calls them.
//
// Which provider it stands in for comes from its own file name, terraform-provider-<type>_v<ver>,
// and the schema file is read from schemas.json next to the executable (the setup script puts
// both in a separate filesystem mirror, $KG_CACHE/tf-mirror-schema-standin).
//
// What the extracted schema does not know, and how it is filled in:
//   - optional arguments are served Optional+Computed (the published schema does not say which
//     ones the provider computes), so mocks give unset ones a value;
//   - arguments whose name ends in _wo are served write-only (the google provider's convention);
//   - blocks are served as lists (MaxItems 1 for single blocks): set-typed blocks index like lists here;
//   - the providers' own value validators are not run.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/plugin"
)

type argumentSchema struct {
	Required bool   `json:"required"`
	Type     string `json:"type"`
}

type nestedBlockSchema struct {
	Required bool        `json:"required"`
	List     bool        `json:"list"`
	Block    blockSchema `json:"block"`
}

type blockSchema struct {
	Arguments map[string]argumentSchema    `json:"arguments"`
	Blocks    map[string]nestedBlockSchema `json:"blocks"`
	Exported  map[string]string            `json:"exported"`
}

type providerSchemas struct {
	Provider  string                 `json:"provider"`
	Version   string                 `json:"version"`
	Config    blockSchema            `json:"config"`
	Resources map[string]blockSchema `json:"resources"`
	Data      map[string]blockSchema `json:"data"`
}

// Names Terraform (or the SDK) handles itself and a schema must not declare.
var reserved = map[string]bool{"id": true, "timeouts": true, "alias": true, "count": true, "depends_on": true,
	"for_each": true, "lifecycle": true, "provider": true, "provisioner": true, "connection": true}

func valueSchema(kind string) (schema.ValueType, interface{}) {
	switch kind {
	case "string":
		return schema.TypeString, nil
	case "number":
		return schema.TypeFloat, nil
	case "bool":
		return schema.TypeBool, nil
	case "map":
		return schema.TypeMap, &schema.Schema{Type: schema.TypeString}
	case "list":
		return schema.TypeList, &schema.Schema{Type: schema.TypeString}
	default:
		return schema.TypeString, nil
	}
}

// toSchema converts an extracted block schema; managed says whether write-only arguments are allowed.
func toSchema(b blockSchema, managed bool) map[string]*schema.Schema {
	out := map[string]*schema.Schema{}
	for name, a := range b.Arguments {
		if reserved[name] {
			continue
		}
		t, elem := valueSchema(a.Type)
		s := &schema.Schema{Type: t, Elem: elem}
		switch {
		case a.Required:
			s.Required = true
		case managed && len(name) > 3 && name[len(name)-3:] == "_wo":
			s.Optional = true
			s.WriteOnly = true
		default:
			s.Optional = true
			s.Computed = true
		}
		out[name] = s
	}
	for name, nb := range b.Blocks {
		if reserved[name] {
			continue
		}
		s := &schema.Schema{Type: schema.TypeList, Elem: &schema.Resource{Schema: toSchema(nb.Block, managed)}}
		if !nb.List {
			s.MaxItems = 1
		}
		if nb.Required {
			s.Required = true
			s.MinItems = 1
		} else {
			s.Optional = true
		}
		out[name] = s
	}
	for name, kind := range b.Exported {
		if reserved[name] {
			continue
		}
		if _, taken := out[name]; taken {
			continue
		}
		t, elem := valueSchema(kind)
		out[name] = &schema.Schema{Type: t, Elem: elem, Computed: true}
	}
	return out
}

func standIn(what string) func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics {
	return func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics {
		return diag.Errorf("%s: this is a schema-only stand-in provider for tofu validate/test with mock_provider; it manages no real resources", what)
	}
}

func main() {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	match := regexp.MustCompile(`^terraform-provider-([a-z0-9-]+)_v([0-9.]+)$`).FindStringSubmatch(filepath.Base(exe))
	if match == nil {
		fmt.Fprintf(os.Stderr, "%s: name must be terraform-provider-<type>_v<version>\n", exe)
		os.Exit(1)
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(exe), "schemas.json"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var all []providerSchemas
	if err := json.Unmarshal(raw, &all); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var chosen *providerSchemas
	for i := range all {
		if all[i].Provider == "hashicorp/"+match[1] && all[i].Version == match[2] {
			chosen = &all[i]
		}
	}
	if chosen == nil {
		fmt.Fprintf(os.Stderr, "schemas.json has no hashicorp/%s %s\n", match[1], match[2])
		os.Exit(1)
	}
	resources := map[string]*schema.Resource{}
	names := make([]string, 0, len(chosen.Resources))
	for name := range chosen.Resources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		resources[name] = &schema.Resource{
			Schema:        toSchema(chosen.Resources[name], true),
			CreateContext: standIn(name),
			ReadContext:   standIn(name),
			UpdateContext: standIn(name),
			DeleteContext: standIn(name),
		}
	}
	data := map[string]*schema.Resource{}
	for name, b := range chosen.Data {
		data[name] = &schema.Resource{Schema: toSchema(b, false), ReadContext: standIn(name)}
	}
	plugin.Serve(&plugin.ServeOpts{ProviderFunc: func() *schema.Provider {
		return &schema.Provider{Schema: toSchema(chosen.Config, false), ResourcesMap: resources, DataSourcesMap: data}
	}})
}
