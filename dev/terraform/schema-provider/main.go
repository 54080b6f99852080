// Command schema-provider is a schema-only stand-in for a Terraform provider. It serves, over
// plugin protocol 5, the schema the real provider printed with `tofu providers schema -json`
// (trimmed to the types terraform/ uses by dev/terraform/provider-schema.ts, committed as
// test/unit/terraform/fixtures/provider-schemas.json), so that OpenTofu can run `tofu validate`
// and `tofu test` with `mock_provider` against it where the real provider binaries are absent.
//
// Every attribute and block is served exactly as the real provider declares it: its type, its
// required/optional/computed/sensitive/write-only/deprecated flags, its nesting mode (single,
// list, set, map, group) and item limits, and each schema's version. What it does not have is
// behaviour: no value validators, no plan customisation, and every read, plan, apply and import
// answers with an error saying it is a stand-in, so it can never be mistaken for the provider in
// a plan or apply with real resources (under mock_provider OpenTofu answers those itself).
//
// Which provider it stands in for comes from its own file name, terraform-provider-<type>_v<ver>;
// the schema file, schemas.json, is read from next to the executable (the setup script puts both
// in a filesystem mirror of their own), and must record that provider at that version.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tfprotov5/tf5server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The shapes below are those of `tofu providers schema -json` (OpenTofu's
// internal/command/jsonprovider: Attribute, BlockType, Block, Schema, Provider).
type jsonAttribute struct {
	Type       json.RawMessage `json:"type"`
	NestedType json.RawMessage `json:"nested_type"`
	Required   bool            `json:"required"`
	Optional   bool            `json:"optional"`
	Computed   bool            `json:"computed"`
	Sensitive  bool            `json:"sensitive"`
	WriteOnly  bool            `json:"write_only"`
	Deprecated bool            `json:"deprecated"`
	// DeprecationMessage is printed by tofu when the attribute is set.
	DeprecationMessage string `json:"deprecation_message"`
}

type jsonBlockType struct {
	NestingMode string    `json:"nesting_mode"`
	Block       jsonBlock `json:"block"`
	MinItems    int64     `json:"min_items"`
	MaxItems    int64     `json:"max_items"`
}

type jsonBlock struct {
	Attributes map[string]jsonAttribute `json:"attributes"`
	BlockTypes map[string]jsonBlockType `json:"block_types"`
	Deprecated bool                     `json:"deprecated"`
	// DeprecationMessage is printed by tofu when the block is used.
	DeprecationMessage string `json:"deprecation_message"`
}

type jsonSchema struct {
	Version int64     `json:"version"`
	Block   jsonBlock `json:"block"`
}

type jsonProvider struct {
	Provider          jsonSchema            `json:"provider"`
	ResourceSchemas   map[string]jsonSchema `json:"resource_schemas"`
	DataSourceSchemas map[string]jsonSchema `json:"data_source_schemas"`
}

// schemaFile is the committed file: the generator's header plus tofu's own output, trimmed.
type schemaFile struct {
	Generated struct {
		Providers map[string]struct {
			Version string `json:"version"`
		} `json:"providers"`
	} `json:"generated"`
	ProviderSchemas map[string]jsonProvider `json:"provider_schemas"`
}

var nestingModes = map[string]tfprotov5.SchemaNestedBlockNestingMode{
	"single": tfprotov5.SchemaNestedBlockNestingModeSingle,
	"list":   tfprotov5.SchemaNestedBlockNestingModeList,
	"set":    tfprotov5.SchemaNestedBlockNestingModeSet,
	"map":    tfprotov5.SchemaNestedBlockNestingModeMap,
	"group":  tfprotov5.SchemaNestedBlockNestingModeGroup,
}

// sortedKeys gives a stable order, so the schema served is the same on every run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func toBlock(where string, b jsonBlock) (*tfprotov5.SchemaBlock, error) {
	out := &tfprotov5.SchemaBlock{Deprecated: b.Deprecated, DeprecationMessage: b.DeprecationMessage}
	for _, name := range sortedKeys(b.Attributes) {
		a := b.Attributes[name]
		if len(a.NestedType) > 0 {
			// Nested attribute types exist only in protocol 6; a protocol 5 provider never has them.
			return nil, fmt.Errorf("%s.%s: nested attribute types need plugin protocol 6, which this stand-in does not speak", where, name)
		}
		t, err := tftypes.ParseJSONType(a.Type) //nolint:staticcheck // the cty JSON type encoding is what tofu prints
		if err != nil {
			return nil, fmt.Errorf("%s.%s: type %s: %w", where, name, a.Type, err)
		}
		out.Attributes = append(out.Attributes, &tfprotov5.SchemaAttribute{
			Name: name, Type: t, Required: a.Required, Optional: a.Optional, Computed: a.Computed,
			Sensitive: a.Sensitive, WriteOnly: a.WriteOnly, Deprecated: a.Deprecated, DeprecationMessage: a.DeprecationMessage,
		})
	}
	for _, name := range sortedKeys(b.BlockTypes) {
		bt := b.BlockTypes[name]
		mode, ok := nestingModes[bt.NestingMode]
		if !ok {
			return nil, fmt.Errorf("%s.%s: unknown nesting mode %q", where, name, bt.NestingMode)
		}
		inner, err := toBlock(where+"."+name, bt.Block)
		if err != nil {
			return nil, err
		}
		out.BlockTypes = append(out.BlockTypes, &tfprotov5.SchemaNestedBlock{
			TypeName: name, Block: inner, Nesting: mode, MinItems: bt.MinItems, MaxItems: bt.MaxItems,
		})
	}
	return out, nil
}

func toSchemas(kind string, in map[string]jsonSchema) (map[string]*tfprotov5.Schema, error) {
	out := map[string]*tfprotov5.Schema{}
	for name, s := range in {
		block, err := toBlock(kind+" "+name, s.Block)
		if err != nil {
			return nil, err
		}
		out[name] = &tfprotov5.Schema{Version: s.Version, Block: block}
	}
	return out, nil
}

// standIn is the provider server: schemas only.
type standIn struct {
	provider  *tfprotov5.Schema
	resources map[string]*tfprotov5.Schema
	data      map[string]*tfprotov5.Schema
}

func standInError(what string) []*tfprotov5.Diagnostic {
	return []*tfprotov5.Diagnostic{{
		Severity: tfprotov5.DiagnosticSeverityError,
		Summary:  "schema-only stand-in provider",
		Detail:   what + ": this is a schema-only stand-in provider for tofu validate/test with mock_provider; it manages no real resources",
	}}
}

func (p *standIn) GetMetadata(context.Context, *tfprotov5.GetMetadataRequest) (*tfprotov5.GetMetadataResponse, error) {
	resp := &tfprotov5.GetMetadataResponse{ServerCapabilities: &tfprotov5.ServerCapabilities{}}
	for _, name := range sortedKeys(p.resources) {
		resp.Resources = append(resp.Resources, tfprotov5.ResourceMetadata{TypeName: name})
	}
	for _, name := range sortedKeys(p.data) {
		resp.DataSources = append(resp.DataSources, tfprotov5.DataSourceMetadata{TypeName: name})
	}
	return resp, nil
}

func (p *standIn) GetProviderSchema(context.Context, *tfprotov5.GetProviderSchemaRequest) (*tfprotov5.GetProviderSchemaResponse, error) {
	return &tfprotov5.GetProviderSchemaResponse{
		ServerCapabilities: &tfprotov5.ServerCapabilities{},
		Provider:           p.provider,
		ResourceSchemas:    p.resources,
		DataSourceSchemas:  p.data,
	}, nil
}

func (p *standIn) GetResourceIdentitySchemas(context.Context, *tfprotov5.GetResourceIdentitySchemasRequest) (*tfprotov5.GetResourceIdentitySchemasResponse, error) {
	return &tfprotov5.GetResourceIdentitySchemasResponse{}, nil
}

// No validators: the configuration is accepted as it is (the real provider would check values).
func (p *standIn) PrepareProviderConfig(_ context.Context, req *tfprotov5.PrepareProviderConfigRequest) (*tfprotov5.PrepareProviderConfigResponse, error) {
	return &tfprotov5.PrepareProviderConfigResponse{PreparedConfig: req.Config}, nil
}

func (p *standIn) ConfigureProvider(context.Context, *tfprotov5.ConfigureProviderRequest) (*tfprotov5.ConfigureProviderResponse, error) {
	return &tfprotov5.ConfigureProviderResponse{}, nil
}

func (p *standIn) StopProvider(context.Context, *tfprotov5.StopProviderRequest) (*tfprotov5.StopProviderResponse, error) {
	return &tfprotov5.StopProviderResponse{}, nil
}

func (p *standIn) ValidateResourceTypeConfig(context.Context, *tfprotov5.ValidateResourceTypeConfigRequest) (*tfprotov5.ValidateResourceTypeConfigResponse, error) {
	return &tfprotov5.ValidateResourceTypeConfigResponse{}, nil
}

// UpgradeResourceState decodes the stored state with the current schema, as the SDK does for a
// schema version without upgraders (attributes the schema no longer has are dropped). OpenTofu
// passes this call to the provider even under mock_provider, between the runs of a test file.
func (p *standIn) UpgradeResourceState(_ context.Context, req *tfprotov5.UpgradeResourceStateRequest) (*tfprotov5.UpgradeResourceStateResponse, error) {
	s, ok := p.resources[req.TypeName]
	if !ok || req.RawState == nil {
		return &tfprotov5.UpgradeResourceStateResponse{Diagnostics: standInError("upgrade state of unknown " + req.TypeName)}, nil
	}
	t := s.ValueType()
	v, err := req.RawState.UnmarshalWithOpts(t, tfprotov5.UnmarshalOpts{ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true}})
	if err != nil {
		return &tfprotov5.UpgradeResourceStateResponse{Diagnostics: standInError(fmt.Sprintf("%s state: %v", req.TypeName, err))}, nil
	}
	dv, err := tfprotov5.NewDynamicValue(t, v)
	if err != nil {
		return &tfprotov5.UpgradeResourceStateResponse{Diagnostics: standInError(fmt.Sprintf("%s state: %v", req.TypeName, err))}, nil
	}
	return &tfprotov5.UpgradeResourceStateResponse{UpgradedState: &dv}, nil
}

func (p *standIn) UpgradeResourceIdentity(_ context.Context, req *tfprotov5.UpgradeResourceIdentityRequest) (*tfprotov5.UpgradeResourceIdentityResponse, error) {
	return &tfprotov5.UpgradeResourceIdentityResponse{Diagnostics: standInError(req.TypeName)}, nil
}

func (p *standIn) ReadResource(_ context.Context, req *tfprotov5.ReadResourceRequest) (*tfprotov5.ReadResourceResponse, error) {
	return &tfprotov5.ReadResourceResponse{Diagnostics: standInError(req.TypeName)}, nil
}

func (p *standIn) PlanResourceChange(_ context.Context, req *tfprotov5.PlanResourceChangeRequest) (*tfprotov5.PlanResourceChangeResponse, error) {
	return &tfprotov5.PlanResourceChangeResponse{Diagnostics: standInError(req.TypeName)}, nil
}

func (p *standIn) ApplyResourceChange(_ context.Context, req *tfprotov5.ApplyResourceChangeRequest) (*tfprotov5.ApplyResourceChangeResponse, error) {
	return &tfprotov5.ApplyResourceChangeResponse{Diagnostics: standInError(req.TypeName)}, nil
}

func (p *standIn) ImportResourceState(_ context.Context, req *tfprotov5.ImportResourceStateRequest) (*tfprotov5.ImportResourceStateResponse, error) {
	return &tfprotov5.ImportResourceStateResponse{Diagnostics: standInError(req.TypeName)}, nil
}

func (p *standIn) MoveResourceState(_ context.Context, req *tfprotov5.MoveResourceStateRequest) (*tfprotov5.MoveResourceStateResponse, error) {
	return &tfprotov5.MoveResourceStateResponse{Diagnostics: standInError(req.TargetTypeName)}, nil
}

func (p *standIn) GenerateResourceConfig(_ context.Context, req *tfprotov5.GenerateResourceConfigRequest) (*tfprotov5.GenerateResourceConfigResponse, error) {
	return &tfprotov5.GenerateResourceConfigResponse{Diagnostics: standInError(req.TypeName)}, nil
}

func (p *standIn) ValidateDataSourceConfig(context.Context, *tfprotov5.ValidateDataSourceConfigRequest) (*tfprotov5.ValidateDataSourceConfigResponse, error) {
	return &tfprotov5.ValidateDataSourceConfigResponse{}, nil
}

func (p *standIn) ReadDataSource(_ context.Context, req *tfprotov5.ReadDataSourceRequest) (*tfprotov5.ReadDataSourceResponse, error) {
	return &tfprotov5.ReadDataSourceResponse{Diagnostics: standInError(req.TypeName)}, nil
}

func (p *standIn) GetFunctions(context.Context, *tfprotov5.GetFunctionsRequest) (*tfprotov5.GetFunctionsResponse, error) {
	return &tfprotov5.GetFunctionsResponse{}, nil
}

func (p *standIn) CallFunction(_ context.Context, req *tfprotov5.CallFunctionRequest) (*tfprotov5.CallFunctionResponse, error) {
	return &tfprotov5.CallFunctionResponse{Error: &tfprotov5.FunctionError{Text: req.Name + ": schema-only stand-in provider"}}, nil
}

func (p *standIn) ValidateEphemeralResourceConfig(context.Context, *tfprotov5.ValidateEphemeralResourceConfigRequest) (*tfprotov5.ValidateEphemeralResourceConfigResponse, error) {
	return &tfprotov5.ValidateEphemeralResourceConfigResponse{}, nil
}

func (p *standIn) OpenEphemeralResource(_ context.Context, req *tfprotov5.OpenEphemeralResourceRequest) (*tfprotov5.OpenEphemeralResourceResponse, error) {
	return &tfprotov5.OpenEphemeralResourceResponse{Diagnostics: standInError(req.TypeName)}, nil
}

func (p *standIn) RenewEphemeralResource(_ context.Context, req *tfprotov5.RenewEphemeralResourceRequest) (*tfprotov5.RenewEphemeralResourceResponse, error) {
	return &tfprotov5.RenewEphemeralResourceResponse{Diagnostics: standInError(req.TypeName)}, nil
}

func (p *standIn) CloseEphemeralResource(_ context.Context, req *tfprotov5.CloseEphemeralResourceRequest) (*tfprotov5.CloseEphemeralResourceResponse, error) {
	return &tfprotov5.CloseEphemeralResourceResponse{Diagnostics: standInError(req.TypeName)}, nil
}

// load reads the schema of hashicorp/<providerType> <version> from the schema file.
func load(file, providerType, version string) (*standIn, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var all schemaFile
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	address := "registry.opentofu.org/hashicorp/" + providerType
	recorded, ok := all.Generated.Providers[address]
	chosen, hasSchema := all.ProviderSchemas[address]
	if !ok || !hasSchema || recorded.Version != version {
		return nil, fmt.Errorf("%s has no schema of %s %s (it records %q)", file, address, version, recorded.Version)
	}
	block, err := toBlock("provider", chosen.Provider.Block)
	if err != nil {
		return nil, err
	}
	resources, err := toSchemas("resource", chosen.ResourceSchemas)
	if err != nil {
		return nil, err
	}
	data, err := toSchemas("data source", chosen.DataSourceSchemas)
	if err != nil {
		return nil, err
	}
	return &standIn{provider: &tfprotov5.Schema{Version: chosen.Provider.Version, Block: block}, resources: resources, data: data}, nil
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
	server, err := load(filepath.Join(filepath.Dir(exe), "schemas.json"), match[1], match[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := tf5server.Serve("registry.opentofu.org/hashicorp/"+match[1], func() tfprotov5.ProviderServer { return server }); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
