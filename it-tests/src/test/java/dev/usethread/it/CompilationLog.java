package dev.usethread.it;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.Attributes;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Reads a HotSpot -XX:+LogCompilation file. Each compiler thread's log is one
 * {@code <compilation_log>} element (opened by {@code <start_compile_thread name=...>}); in it each
 * compilation is a {@code <task>} that declares the classes and methods it mentions by id
 * ({@code <klass id name>}, {@code <method id holder name>}), and each call site C2 considers is a
 * {@code <call method=id>} followed by {@code <inline_success reason>} or {@code <inline_fail reason>}.
 */
final class CompilationLog {
    private CompilationLog() {
    }

    /** The reason C2 gave at every call site of a method of {@code holder} whose name matches the regex {@code name}, in log order. */
    static List<String> c2InliningReasons(Path log, String holder, String name)
            throws IOException, SAXException, ParserConfigurationException {
        List<String> reasons = new ArrayList<>();
        DefaultHandler handler = new DefaultHandler() {
            boolean c2;
            final Map<String, String> klasses = new HashMap<>();
            final Map<String, String> methods = new HashMap<>();
            boolean awaitingDecision;

            @Override
            public void startElement(String uri, String localName, String qName, Attributes a) {
                switch (qName) {
                    case "start_compile_thread":
                        c2 = String.valueOf(a.getValue("name")).startsWith("C2 ");
                        break;
                    case "task":
                        klasses.clear();
                        methods.clear();
                        awaitingDecision = false;
                        break;
                    case "klass":
                        klasses.put(a.getValue("id"), String.valueOf(a.getValue("name")).replace('/', '.'));
                        break;
                    case "method":
                        methods.put(a.getValue("id"), klasses.get(a.getValue("holder")) + "::" + a.getValue("name"));
                        break;
                    case "call":
                        String callee = methods.get(a.getValue("method"));
                        awaitingDecision = c2 && callee != null && callee.matches(java.util.regex.Pattern.quote(holder + "::") + name);
                        break;
                    case "inline_success":
                    case "inline_fail":
                        if (awaitingDecision) {
                            reasons.add(a.getValue("reason"));
                            awaitingDecision = false;
                        }
                        break;
                    default:
                        break;
                }
            }
        };
        SAXParserFactory.newInstance().newSAXParser().parse(log.toFile(), handler);
        return reasons;
    }
}
