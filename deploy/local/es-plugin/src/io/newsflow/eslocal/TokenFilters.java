package io.newsflow.eslocal;

import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.core.DecimalDigitFilter;
import org.apache.lucene.analysis.core.UpperCaseFilter;
import org.apache.lucene.analysis.en.EnglishMinimalStemFilter;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.fr.FrenchAnalyzer;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.miscellaneous.LengthFilter;
import org.apache.lucene.analysis.miscellaneous.TrimFilter;
import org.apache.lucene.analysis.miscellaneous.TruncateTokenFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterIterator;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenFilter;
import org.apache.lucene.analysis.ngram.NGramTokenFilter;
import org.apache.lucene.analysis.reverse.ReverseStringFilter;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionIncrementAttribute;
import org.apache.lucene.analysis.util.ElisionFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.NormalizingTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/** Token filters with the names and main settings of Elasticsearch's analysis-common module. */
final class TokenFilters {
    private TokenFilters() {}

    static Map<String, AnalysisProvider<TokenFilterFactory>> providers() {
        Map<String, AnalysisProvider<TokenFilterFactory>> m = new HashMap<>();
        m.put("stemmer", (is, env, name, s) -> {
            String lang = s.get("language", s.get("name", "english"));
            Function<TokenStream, TokenStream> stem = stemmer(lang);
            return filter(name, s, stem::apply);
        });
        m.put("porter_stem", (is, env, name, s) -> filter(name, s, PorterStemFilter::new));
        m.put("kstem", (is, env, name, s) -> filter(name, s, KStemFilter::new));
        m.put("snowball", (is, env, name, s) -> {
            String lang = s.get("language", "English");
            Function<TokenStream, TokenStream> stem = snowball(lang);
            return filter(name, s, stem::apply);
        });
        m.put("asciifolding", (is, env, name, s) -> {
            boolean preserve = s.getAsBoolean("preserve_original", false);
            return normalizing(name, s, ts -> new ASCIIFoldingFilter(ts, preserve), ts -> new ASCIIFoldingFilter(ts, false));
        });
        m.put("trim", (is, env, name, s) -> normalizing(name, s, TrimFilter::new, TrimFilter::new));
        m.put("uppercase", (is, env, name, s) -> normalizing(name, s, UpperCaseFilter::new, UpperCaseFilter::new));
        m.put("decimal_digit", (is, env, name, s) -> normalizing(name, s, DecimalDigitFilter::new, DecimalDigitFilter::new));
        m.put("elision", (is, env, name, s) -> {
            List<String> articles = s.getAsList("articles", null);
            boolean articlesCase = s.getAsBoolean("articles_case", false);
            CharArraySet set = articles == null ? FrenchAnalyzer.DEFAULT_ARTICLES : new CharArraySet(articles, articlesCase);
            return normalizing(name, s, ts -> new ElisionFilter(ts, set), ts -> new ElisionFilter(ts, set));
        });
        m.put("length", (is, env, name, s) -> {
            int min = s.getAsInt("min", 0);
            int max = s.getAsInt("max", Integer.MAX_VALUE);
            return filter(name, s, ts -> new LengthFilter(ts, min, max));
        });
        m.put("truncate", (is, env, name, s) -> {
            int length = s.getAsInt("length", 10);
            return filter(name, s, ts -> new TruncateTokenFilter(ts, length));
        });
        m.put("reverse", (is, env, name, s) -> filter(name, s, ReverseStringFilter::new));
        m.put("unique", (is, env, name, s) -> {
            boolean samePosition = s.getAsBoolean("only_on_same_position", false);
            return filter(name, s, ts -> new UniqueFilter(ts, samePosition));
        });
        m.put("edge_ngram", (is, env, name, s) -> {
            int min = s.getAsInt("min_gram", 1);
            int max = s.getAsInt("max_gram", 2);
            boolean preserve = s.getAsBoolean("preserve_original", false);
            return filter(name, s, ts -> new EdgeNGramTokenFilter(ts, min, max, preserve));
        });
        m.put("ngram", (is, env, name, s) -> {
            int min = s.getAsInt("min_gram", 1);
            int max = s.getAsInt("max_gram", 2);
            boolean preserve = s.getAsBoolean("preserve_original", false);
            return filter(name, s, ts -> new NGramTokenFilter(ts, min, max, preserve));
        });
        m.put("word_delimiter_graph", (is, env, name, s) -> {
            int flags = 0;
            flags |= flag(s, "generate_word_parts", true, WordDelimiterGraphFilter.GENERATE_WORD_PARTS);
            flags |= flag(s, "generate_number_parts", true, WordDelimiterGraphFilter.GENERATE_NUMBER_PARTS);
            flags |= flag(s, "catenate_words", false, WordDelimiterGraphFilter.CATENATE_WORDS);
            flags |= flag(s, "catenate_numbers", false, WordDelimiterGraphFilter.CATENATE_NUMBERS);
            flags |= flag(s, "catenate_all", false, WordDelimiterGraphFilter.CATENATE_ALL);
            flags |= flag(s, "split_on_case_change", true, WordDelimiterGraphFilter.SPLIT_ON_CASE_CHANGE);
            flags |= flag(s, "preserve_original", false, WordDelimiterGraphFilter.PRESERVE_ORIGINAL);
            flags |= flag(s, "split_on_numerics", true, WordDelimiterGraphFilter.SPLIT_ON_NUMERICS);
            flags |= flag(s, "stem_english_possessive", true, WordDelimiterGraphFilter.STEM_ENGLISH_POSSESSIVE);
            final int f = flags;
            boolean adjustOffsets = s.getAsBoolean("adjust_offsets", true);
            return filter(name, s, ts -> new WordDelimiterGraphFilter(ts, adjustOffsets, WordDelimiterIterator.DEFAULT_WORD_DELIM_TABLE, f, null));
        });
        return m;
    }

    private static int flag(Settings s, String key, boolean def, int bit) {
        return s.getAsBoolean(key, def) ? bit : 0;
    }

    static Function<TokenStream, TokenStream> stemmer(String language) {
        switch (language.toLowerCase(Locale.ROOT)) {
            case "english":
            case "porter":
                return PorterStemFilter::new;
            case "light_english":
            case "kstem":
                return KStemFilter::new;
            case "minimal_english":
                return EnglishMinimalStemFilter::new;
            case "possessive_english":
                return EnglishPossessiveFilter::new;
            case "porter2":
                return snowball("English");
            default:
                // other languages: the matching Snowball stemmer (e.g. "french", "german", "spanish")
                return snowball(language);
        }
    }

    static Function<TokenStream, TokenStream> snowball(String language) {
        String lang = language.isEmpty() ? language : Character.toUpperCase(language.charAt(0)) + language.substring(1).toLowerCase(Locale.ROOT);
        try {
            Class.forName("org.tartarus.snowball.ext." + lang + "Stemmer", false, SnowballFilter.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("newsflow-local: unsupported stemmer/snowball language [" + language + "]");
        }
        return ts -> new SnowballFilter(ts, lang);
    }

    interface Fn {
        TokenStream apply(TokenStream in);
    }

    static TokenFilterFactory filter(String name, Settings settings, Fn fn) {
        return new AbstractTokenFilterFactory(name, settings) {
            @Override
            public TokenStream create(TokenStream tokenStream) {
                return fn.apply(tokenStream);
            }
        };
    }

    static TokenFilterFactory normalizing(String name, Settings settings, Fn create, Fn normalize) {
        final class Normalizing extends AbstractTokenFilterFactory implements NormalizingTokenFilterFactory {
            Normalizing() {
                super(name, settings);
            }

            @Override
            public TokenStream create(TokenStream tokenStream) {
                return create.apply(tokenStream);
            }

            @Override
            public TokenStream normalize(TokenStream tokenStream) {
                return normalize.apply(tokenStream);
            }
        }
        return new Normalizing();
    }

    /** Drops tokens already seen in the stream (or, with onlyOnSamePosition, at the same position). */
    static final class UniqueFilter extends TokenFilter {
        private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
        private final PositionIncrementAttribute posInc = addAttribute(PositionIncrementAttribute.class);
        private final CharArraySet seen = new CharArraySet(8, false);
        private final boolean onlyOnSamePosition;

        UniqueFilter(TokenStream in, boolean onlyOnSamePosition) {
            super(in);
            this.onlyOnSamePosition = onlyOnSamePosition;
        }

        @Override
        public boolean incrementToken() throws IOException {
            while (input.incrementToken()) {
                if (onlyOnSamePosition && posInc.getPositionIncrement() > 0) {
                    seen.clear();
                }
                char[] buf = term.buffer();
                int len = term.length();
                if (seen.contains(buf, 0, len)) {
                    continue;
                }
                char[] copy = new char[len];
                System.arraycopy(buf, 0, copy, 0, len);
                seen.add(copy);
                return true;
            }
            return false;
        }

        @Override
        public void reset() throws IOException {
            super.reset();
            seen.clear();
        }
    }
}
