package article

import (
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Decode's codec is github.com/go-json-experiment/json (the json v2 implementation that
// became Go's encoding/json/v2, still behind GOEXPERIMENT=jsonv2 in Go 1.26) with encoding/json
// v1's semantics: jsonv1.DefaultOptionsV1 is every v1 behaviour (names matched without case,
// delimiters not ignored; duplicate names allowed, the last one winning; invalid UTF-8 and
// lone surrogates replaced by U+FFFD; v1's null and merge rules; base64 with line breaks, or
// []byte as an array of numbers), and times are decoded by time.Time.UnmarshalJSON on the
// raw value, as v1 does. One v1 behaviour is left out: ReportErrorsWithLegacySemantics, which
// validates the whole input in a pass of its own before decoding it and returns v1's error
// types; without it an input fails at its first error, with json v2's error types and texts.
// The errors are errors where v1's were and Decode still wraps them in ErrMalformed (no
// caller reads their type); that pass was a fifth of the decode's time. Their text does reach
// people: it is the dead-letter reason (DLQ envelope, reason header, `newsflow dlq --reason`
// filters on it), e.g. "jsontext: invalid character 'G' at start of value" where v1 said
// "invalid character 'G' looking for beginning of value", "jsontext: unexpected EOF after
// offset 20" for "unexpected end of JSON input".
//
// Encode stays with encoding/json (article.go), so the bytes on the wire are what they were.
//
// TestCodecDifferential (the farm's 170 enriched envelopes, a raw page and edge cases) and
// FuzzDecodeDifferential check the codec against encoding/json: both reject an input, or both
// decode it to the same value. BenchmarkCodec compares the two: the codec decodes the farm's
// enriched envelopes in 50 µs instead of 95 µs and a 43 KB raw envelope in 151 µs instead of
// 305 µs (median of 6, same run, load 1.4–2.4).
var decodeOpts = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsonv1.ReportErrorsWithLegacySemantics(false),
	jsonv2.WithUnmarshalers(jsonv2.UnmarshalFunc(unmarshalTime)))

// unmarshalTime is encoding/json's decoding of a time.Time: its UnmarshalJSON on the raw
// value. json v2 parses times itself, and unescapes the string first: "\u0032026-…" is a
// time to it, and an error to encoding/json (FuzzDecodeDifferential).
func unmarshalTime(b []byte, t *time.Time) error { return t.UnmarshalJSON(b) }

func unmarshal(b []byte, v any) error { return jsonv2.Unmarshal(b, v, decodeOpts) }
