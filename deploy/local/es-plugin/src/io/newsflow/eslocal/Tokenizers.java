package io.newsflow.eslocal;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.classic.ClassicTokenizer;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.analysis.core.LetterTokenizer;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.apache.lucene.analysis.email.UAX29URLEmailTokenizer;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenizer;
import org.apache.lucene.analysis.ngram.NGramTokenizer;
import org.apache.lucene.analysis.path.PathHierarchyTokenizer;
import org.apache.lucene.analysis.pattern.PatternTokenizer;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractTokenizerFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntPredicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/** Tokenizers with the names and main settings of Elasticsearch's analysis-common module. */
final class Tokenizers {
    private Tokenizers() {}

    static Map<String, AnalysisProvider<TokenizerFactory>> providers() {
        Map<String, AnalysisProvider<TokenizerFactory>> m = new HashMap<>();
        m.put("whitespace", (is, env, name, s) -> {
            int max = s.getAsInt("max_token_length", 255);
            return tokenizer(is, s, name, () -> new WhitespaceTokenizer(TokenStream.DEFAULT_TOKEN_ATTRIBUTE_FACTORY, max));
        });
        m.put("keyword", (is, env, name, s) -> {
            int buffer = s.getAsInt("buffer_size", 256);
            return tokenizer(is, s, name, () -> new KeywordTokenizer(buffer));
        });
        m.put("letter", (is, env, name, s) -> tokenizer(is, s, name, LetterTokenizer::new));
        m.put("classic", (is, env, name, s) -> {
            int max = s.getAsInt("max_token_length", 255);
            return tokenizer(is, s, name, () -> {
                ClassicTokenizer t = new ClassicTokenizer();
                t.setMaxTokenLength(max);
                return t;
            });
        });
        m.put("uax_url_email", (is, env, name, s) -> {
            int max = s.getAsInt("max_token_length", 255);
            return tokenizer(is, s, name, () -> {
                UAX29URLEmailTokenizer t = new UAX29URLEmailTokenizer();
                t.setMaxTokenLength(max);
                return t;
            });
        });
        m.put("pattern", (is, env, name, s) -> {
            Pattern p = CharFilters.pattern(s.get("pattern", "\\W+"), s.get("flags"));
            int group = s.getAsInt("group", -1);
            return tokenizer(is, s, name, () -> new PatternTokenizer(p, group));
        });
        m.put("path_hierarchy", (is, env, name, s) -> {
            char delimiter = s.get("delimiter", "/").charAt(0);
            char replacement = s.get("replacement", String.valueOf(delimiter)).charAt(0);
            int skip = s.getAsInt("skip", 0);
            int buffer = s.getAsInt("buffer_size", 1024);
            return tokenizer(is, s, name, () -> new PathHierarchyTokenizer(buffer, delimiter, replacement, skip));
        });
        m.put("ngram", (is, env, name, s) -> {
            int min = s.getAsInt("min_gram", 1);
            int max = s.getAsInt("max_gram", 2);
            IntPredicate chars = tokenChars(s.getAsList("token_chars"));
            return tokenizer(is, s, name, () -> chars == null ? new NGramTokenizer(min, max) : new NGramTokenizer(min, max) {
                @Override
                protected boolean isTokenChar(int c) {
                    return chars.test(c);
                }
            });
        });
        m.put("edge_ngram", (is, env, name, s) -> {
            int min = s.getAsInt("min_gram", 1);
            int max = s.getAsInt("max_gram", 2);
            IntPredicate chars = tokenChars(s.getAsList("token_chars"));
            return tokenizer(is, s, name, () -> chars == null ? new EdgeNGramTokenizer(min, max) : new EdgeNGramTokenizer(min, max) {
                @Override
                protected boolean isTokenChar(int c) {
                    return chars.test(c);
                }
            });
        });
        return m;
    }

    static IntPredicate tokenChars(List<String> classes) {
        if (classes == null || classes.isEmpty()) {
            return null;
        }
        IntPredicate p = c -> false;
        for (String cls : classes) {
            switch (cls.toLowerCase(Locale.ROOT)) {
                case "letter" -> p = p.or(Character::isLetter);
                case "digit" -> p = p.or(Character::isDigit);
                case "whitespace" -> p = p.or(Character::isWhitespace);
                case "punctuation" -> p = p.or(c -> {
                    int t = Character.getType(c);
                    return t == Character.START_PUNCTUATION || t == Character.END_PUNCTUATION || t == Character.OTHER_PUNCTUATION
                        || t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION
                        || t == Character.INITIAL_QUOTE_PUNCTUATION || t == Character.FINAL_QUOTE_PUNCTUATION;
                });
                case "symbol" -> p = p.or(c -> {
                    int t = Character.getType(c);
                    return t == Character.MATH_SYMBOL || t == Character.CURRENCY_SYMBOL || t == Character.MODIFIER_SYMBOL
                        || t == Character.OTHER_SYMBOL;
                });
                default -> throw new IllegalArgumentException("newsflow-local: unsupported token_chars class [" + cls + "]");
            }
        }
        return p;
    }

    static TokenizerFactory tokenizer(IndexSettings is, Settings s, String name, Supplier<Tokenizer> supplier) {
        return new AbstractTokenizerFactory(is, s, name) {
            @Override
            public Tokenizer create() {
                return supplier.get();
            }
        };
    }
}
