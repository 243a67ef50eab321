package io.newsflow.eslocal;

import org.apache.lucene.analysis.charfilter.HTMLStripCharFilter;
import org.apache.lucene.analysis.charfilter.MappingCharFilter;
import org.apache.lucene.analysis.charfilter.NormalizeCharMap;
import org.apache.lucene.analysis.pattern.PatternReplaceCharFilter;
import org.elasticsearch.index.analysis.AbstractCharFilterFactory;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.NormalizingCharFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;

import java.io.Reader;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/** Char filters with the names and main settings of Elasticsearch's analysis-common module. */
final class CharFilters {
    private CharFilters() {}

    static Map<String, AnalysisProvider<CharFilterFactory>> providers() {
        Map<String, AnalysisProvider<CharFilterFactory>> m = new HashMap<>();
        m.put("html_strip", (is, env, name, s) -> {
            Set<String> escaped = new HashSet<>(s.getAsList("escaped_tags"));
            return charFilter(name, r -> new HTMLStripCharFilter(r, escaped), false);
        });
        m.put("mapping", AnalysisPlugin.requiresAnalysisSettings((is, env, name, s) -> {
            List<String> rules = Analysis.getWordList(env, s, "mappings");
            if (rules == null) {
                throw new IllegalArgumentException("mapping requires either `mappings` or `mappings_path` to be configured");
            }
            NormalizeCharMap.Builder b = new NormalizeCharMap.Builder();
            for (String rule : rules) {
                int i = rule.indexOf("=>");
                if (i < 0) {
                    throw new IllegalArgumentException("Invalid mapping rule : [" + rule + "]");
                }
                String from = unescape(rule.substring(0, i).trim());
                String to = unescape(rule.substring(i + 2).trim());
                if (from.isEmpty()) {
                    throw new IllegalArgumentException("Invalid mapping rule : [" + rule + "]");
                }
                b.add(from, to);
            }
            NormalizeCharMap map = b.build();
            return charFilter(name, r -> new MappingCharFilter(map, r), true);
        }));
        m.put("pattern_replace", AnalysisPlugin.requiresAnalysisSettings((is, env, name, s) -> {
            String p = s.get("pattern");
            if (p == null) {
                throw new IllegalArgumentException("pattern is missing for [" + name + "] char filter of type 'pattern_replace'");
            }
            Pattern pattern = pattern(p, s.get("flags"));
            String replacement = s.get("replacement", "");
            return charFilter(name, r -> new PatternReplaceCharFilter(pattern, replacement, r), true);
        }));
        return m;
    }

    static Pattern pattern(String regex, String flags) {
        int f = 0;
        if (flags != null && flags.isBlank() == false) {
            for (String flag : flags.split("\\|")) {
                switch (flag.trim().toUpperCase(Locale.ROOT)) {
                    case "CASE_INSENSITIVE" -> f |= Pattern.CASE_INSENSITIVE;
                    case "MULTILINE" -> f |= Pattern.MULTILINE;
                    case "DOTALL" -> f |= Pattern.DOTALL;
                    case "UNICODE_CASE" -> f |= Pattern.UNICODE_CASE;
                    case "CANON_EQ" -> f |= Pattern.CANON_EQ;
                    case "UNIX_LINES" -> f |= Pattern.UNIX_LINES;
                    case "LITERAL" -> f |= Pattern.LITERAL;
                    case "COMMENTS" -> f |= Pattern.COMMENTS;
                    case "UNICODE_CHARACTER_CLASS" -> f |= Pattern.UNICODE_CHARACTER_CLASS;
                    default -> throw new IllegalArgumentException("Unknown regex flag [" + flag + "]");
                }
            }
        }
        return Pattern.compile(regex, f);
    }

    /** Backslash escapes as accepted by ES mapping rules: \\ \n \t \r \b \f \\uXXXX. */
    static String unescape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                out.append(c);
                continue;
            }
            char n = s.charAt(++i);
            switch (n) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    if (i + 4 >= s.length()) {
                        throw new IllegalArgumentException("Invalid escaped char in [" + s + "]");
                    }
                    out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> out.append(n);
            }
        }
        return out.toString();
    }

    static CharFilterFactory charFilter(String name, UnaryOperator<Reader> fn, boolean normalizing) {
        if (normalizing) {
            final class Normalizing extends AbstractCharFilterFactory implements NormalizingCharFilterFactory {
                Normalizing() {
                    super(name);
                }

                @Override
                public Reader create(Reader reader) {
                    return fn.apply(reader);
                }
            }
            return new Normalizing();
        }
        return new AbstractCharFilterFactory(name) {
            @Override
            public Reader create(Reader reader) {
                return fn.apply(reader);
            }
        };
    }
}
