package acctest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// An Arg is one piece of an HCL block's body: an attribute (Attr) or text
// written as it is (Raw).
type Arg struct {
	name  string
	value any
	raw   string
}

// Expr is an HCL expression written as it is, e.g. Expr("count.index").
type Expr string

// Attr is the attribute name = value. A string is written as an HCL string
// (Quote), an integer or a bool as a literal, an Expr as it is, a
// map[string]string as an object and a []string as a tuple.
func Attr(name string, value any) Arg { return Arg{name: name, value: value} }

// Raw is HCL written into the body as it is, each line indented: a nested
// block, a comment, or an argument a test gets wrong on purpose.
func Raw(hcl string) Arg { return Arg{raw: hcl} }

// Block is header { args }, with a blank line before it and the attributes
// of each run aligned on "=" as terraform fmt does. Blocks concatenate into
// a configuration.
func Block(header string, args ...Arg) string {
	var b strings.Builder
	b.WriteString("\n" + header + " {\n")
	for i := 0; i < len(args); {
		if args[i].name == "" {
			for _, l := range strings.Split(strings.TrimRight(args[i].raw, "\n"), "\n") {
				b.WriteString("  " + l + "\n")
			}
			i++
			continue
		}
		j, width := i, 0
		for ; j < len(args) && args[j].name != ""; j++ {
			width = max(width, len(args[j].name))
		}
		for _, a := range args[i:j] {
			fmt.Fprintf(&b, "  %-*s = %s\n", width, a.name, hclValue(a.value))
		}
		i = j
	}
	b.WriteString("}\n")
	return b.String()
}

func hclValue(v any) string {
	switch v := v.(type) {
	case string:
		return Quote(v)
	case Expr:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case []string:
		items := make([]string, len(v))
		for i, s := range v {
			items[i] = Quote(s)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case map[string]string:
		if len(v) == 0 {
			return "{}"
		}
		items := make([]string, 0, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			items = append(items, Quote(k)+" = "+Quote(v[k]))
		}
		return "{ " + strings.Join(items, ", ") + " }"
	}
	panic(fmt.Sprintf("acctest: no HCL form for %T", v))
}

// Quote returns s as an HCL quoted string: backslashes, quotes and control
// characters escaped, and "${" and "%{" escaped so that s is not a template.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '\\' || r == '"':
			b.WriteString(`\` + string(r))
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			b.WriteString(string(r) + string(r))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TerraformBlock is the terraform block that names the provider's source,
// for configurations run by the terraform binary itself (terraform-plugin-
// testing writes its own).
func TerraformBlock() string {
	return "\nterraform {\n  required_providers {\n    obs = { source = " + Quote(ProviderAddress) + " }\n  }\n}\n"
}

// ProviderBlock is provider "obs" { args }.
func ProviderBlock(args ...Arg) string { return Block(`provider "obs"`, args...) }

// ResourceBlock is resource "obs_object_multipart" name { args }.
func ResourceBlock(name string, args ...Arg) string {
	return Block(`resource "obs_object_multipart" `+Quote(name), args...)
}

// ObjectBlock is the obs_object_multipart resource name of bucket/key with
// source, then args.
func ObjectBlock(name, bucket, key, source string, args ...Arg) string {
	return ResourceBlock(name, append([]Arg{Attr("bucket", bucket), Attr("key", key), Attr("source", source)}, args...)...)
}

// CopyBlock is the obs_object_copy resource name that copies
// sourceBucket/sourceKey to bucket/key, then args.
func CopyBlock(name, bucket, key, sourceBucket, sourceKey string, args ...Arg) string {
	return Block(`resource "obs_object_copy" `+Quote(name), append([]Arg{
		Attr("bucket", bucket), Attr("key", key), Attr("source_bucket", sourceBucket), Attr("source_key", sourceKey),
	}, args...)...)
}
