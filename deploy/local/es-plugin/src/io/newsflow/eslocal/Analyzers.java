package io.newsflow.eslocal;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.ar.ArabicAnalyzer;
import org.apache.lucene.analysis.bg.BulgarianAnalyzer;
import org.apache.lucene.analysis.ca.CatalanAnalyzer;
import org.apache.lucene.analysis.cz.CzechAnalyzer;
import org.apache.lucene.analysis.da.DanishAnalyzer;
import org.apache.lucene.analysis.de.GermanAnalyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.es.SpanishAnalyzer;
import org.apache.lucene.analysis.fi.FinnishAnalyzer;
import org.apache.lucene.analysis.fr.FrenchAnalyzer;
import org.apache.lucene.analysis.hu.HungarianAnalyzer;
import org.apache.lucene.analysis.id.IndonesianAnalyzer;
import org.apache.lucene.analysis.it.ItalianAnalyzer;
import org.apache.lucene.analysis.nl.DutchAnalyzer;
import org.apache.lucene.analysis.no.NorwegianAnalyzer;
import org.apache.lucene.analysis.pt.PortugueseAnalyzer;
import org.apache.lucene.analysis.ro.RomanianAnalyzer;
import org.apache.lucene.analysis.ru.RussianAnalyzer;
import org.apache.lucene.analysis.sv.SwedishAnalyzer;
import org.apache.lucene.analysis.tr.TurkishAnalyzer;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BiFunction;

/** Language analyzers (type names as in Elasticsearch's analysis-common): Lucene's analyzers, with
 * the {@code stopwords}, {@code stopwords_path} and {@code stem_exclusion} settings parsed by ES itself. */
final class Analyzers {
    private Analyzers() {}

    static Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> providers() {
        Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> m = new HashMap<>();
        m.put("arabic", lang(ArabicAnalyzer::new, ArabicAnalyzer.getDefaultStopSet()));
        m.put("bulgarian", lang(BulgarianAnalyzer::new, BulgarianAnalyzer.getDefaultStopSet()));
        m.put("catalan", lang(CatalanAnalyzer::new, CatalanAnalyzer.getDefaultStopSet()));
        m.put("czech", lang(CzechAnalyzer::new, CzechAnalyzer.getDefaultStopSet()));
        m.put("danish", lang(DanishAnalyzer::new, DanishAnalyzer.getDefaultStopSet()));
        m.put("dutch", lang(DutchAnalyzer::new, DutchAnalyzer.getDefaultStopSet()));
        m.put("english", lang(EnglishAnalyzer::new, EnglishAnalyzer.getDefaultStopSet()));
        m.put("finnish", lang(FinnishAnalyzer::new, FinnishAnalyzer.getDefaultStopSet()));
        m.put("french", lang(FrenchAnalyzer::new, FrenchAnalyzer.getDefaultStopSet()));
        m.put("german", lang(GermanAnalyzer::new, GermanAnalyzer.getDefaultStopSet()));
        m.put("hungarian", lang(HungarianAnalyzer::new, HungarianAnalyzer.getDefaultStopSet()));
        m.put("indonesian", lang(IndonesianAnalyzer::new, IndonesianAnalyzer.getDefaultStopSet()));
        m.put("italian", lang(ItalianAnalyzer::new, ItalianAnalyzer.getDefaultStopSet()));
        m.put("norwegian", lang(NorwegianAnalyzer::new, NorwegianAnalyzer.getDefaultStopSet()));
        m.put("portuguese", lang(PortugueseAnalyzer::new, PortugueseAnalyzer.getDefaultStopSet()));
        m.put("romanian", lang(RomanianAnalyzer::new, RomanianAnalyzer.getDefaultStopSet()));
        m.put("russian", lang(RussianAnalyzer::new, RussianAnalyzer.getDefaultStopSet()));
        m.put("spanish", lang(SpanishAnalyzer::new, SpanishAnalyzer.getDefaultStopSet()));
        m.put("swedish", lang(SwedishAnalyzer::new, SwedishAnalyzer.getDefaultStopSet()));
        m.put("turkish", lang(TurkishAnalyzer::new, TurkishAnalyzer.getDefaultStopSet()));
        return m;
    }

    private static AnalysisProvider<AnalyzerProvider<? extends Analyzer>> lang(
        BiFunction<CharArraySet, CharArraySet, Analyzer> ctor,
        CharArraySet defaultStopwords
    ) {
        return (indexSettings, env, name, settings) -> {
            Analyzer analyzer = ctor.apply(
                Analysis.parseStopWords(env, settings, defaultStopwords),
                Analysis.parseStemExclusion(settings, CharArraySet.EMPTY_SET)
            );
            return new AbstractIndexAnalyzerProvider<Analyzer>(name, settings) {
                @Override
                public Analyzer get() {
                    return analyzer;
                }
            };
        };
    }
}
