package io.newsflow.essecure;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.pattern.PatternCaptureGroupTokenFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * NewsflowSecurePlugin adds the analysis-common component the security module's own index
 * (.security-7: the "email" analyzer) needs and the integ-test-zip distribution lacks: the
 * pattern_capture token filter. Installed only into the secured node of deploy/local/secure.sh.
 */
public class NewsflowSecurePlugin extends Plugin implements AnalysisPlugin {
    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of("pattern_capture", new AnalysisProvider<TokenFilterFactory>() {
            @Override
            public TokenFilterFactory get(IndexSettings is, Environment env, String name, Settings s) {
                List<String> regexes = s.getAsList("patterns");
                if (regexes.isEmpty()) {
                    throw new IllegalArgumentException("required setting 'patterns' is missing for token filter [" + name + "]");
                }
                Pattern[] patterns = regexes.stream().map(Pattern::compile).toArray(Pattern[]::new);
                boolean preserve = s.getAsBoolean("preserve_original", true);
                return new AbstractTokenFilterFactory(name, s) {
                    @Override
                    public TokenStream create(TokenStream ts) {
                        return new PatternCaptureGroupTokenFilter(ts, preserve, patterns);
                    }
                };
            }

            @Override
            public boolean requiresAnalysisSettings() {
                return true; // like analysis-common: no instance without its settings
            }
        });
    }
}
