package dev.usethread.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the {@link Idle} suite side by side in one run and prints the ratios of the best iterations
 * as markdown (one kernel at a time, all its variants back to back):
 * <ul>
 *   <li>{@code name_handWoven} vs {@code name}, same JVM flags (polls placed by hand);
 *   <li>with {@code --agent JAR}: {@code name} and {@code lib_*} in forks with {@code -javaagent}
 *       vs the same benchmarks in forks without it;
 *   <li>{@code name_handWoven} with {@code -Dusethread.poll=flag} (the always-checking design) vs
 *       {@code name}, to show what the folded design saves;
 *   <li>with {@code --baseline-agent JAR} as well: the same agent-woven benchmarks under an earlier
 *       agent, in the same run, so that a change of the agent can be told apart from a change of
 *       the machine.
 * </ul>
 * Arguments: {@code [--smoke] [--jvm PATH] [--agent JAR] [--baseline-agent JAR] [--label TEXT] [--forks N]
 * [-- extra JVM args]}.
 */
public final class IdleSuite {
    private static final String[] KERNELS = {
        "intSum", "longLoop", "vectorAdd", "nestedMatMul", "recursiveFib", "virtualCalls", "listWalk"};
    private static final String[] LIBS = {
        "lib_regex", "lib_jacksonParse", "lib_rhinoScript", "lib_guavaMultiset", "lib_commonsMathFft"};

    /**
     * The agent's default configuration, except that JMH's own harness is not woven: a poll in
     * {@code Blackhole.consumeCompiler} stops the JIT from treating it as a compiler blackhole,
     * which changes what is measured. The benchmark code and the libraries stay woven.
     */
    static final String AGENT_OPTIONS = "exclude=org.openjdk.jmh.**";

    public static void main(String[] args) throws Exception {
        boolean smoke = false;
        String jvm = null;
        String agent = null;
        String baselineAgent = null;
        String label = "";
        int forks = 2;
        List<String> jvmArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--smoke" -> smoke = true;
                case "--jvm" -> jvm = args[++i];
                case "--agent" -> agent = args[++i];
                case "--baseline-agent" -> baselineAgent = args[++i];
                case "--label" -> label = args[++i];
                case "--forks" -> forks = Integer.parseInt(args[++i]);
                case "--" -> {
                    jvmArgs.addAll(List.of(args).subList(i + 1, args.length));
                    i = args.length;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        // One kernel at a time, its variants back to back, so that load from other processes hits
        // the variants of a kernel alike.
        Map<String, RunResult> plain = new LinkedHashMap<>();
        Map<String, RunResult> flag = new LinkedHashMap<>();
        Map<String, RunResult> agentRuns = new LinkedHashMap<>();
        Map<String, RunResult> baselineRuns = new LinkedHashMap<>();
        if (baselineAgent != null && agent == null) {
            throw new IllegalArgumentException("--baseline-agent " + baselineAgent + " needs --agent: it is compared with it");
        }
        boolean baseline = baselineAgent != null;
        for (String k : KERNELS) {
            plain.putAll(run(jvm, jvmArgs, "(" + k + "|" + k + "_handWoven)", smoke, forks));
            flag.putAll(run(jvm, with(jvmArgs, "-Dusethread.poll=flag"), k + "_handWoven", smoke, forks));
            if (agent != null) {
                agentRuns.putAll(run(jvm, with(jvmArgs, "-javaagent:" + agent + "=" + AGENT_OPTIONS), k, smoke, forks));
            }
            if (baseline) {
                baselineRuns.putAll(run(jvm, with(jvmArgs, "-javaagent:" + baselineAgent + "=" + AGENT_OPTIONS), k, smoke, forks));
            }
        }
        for (String l : LIBS) {
            plain.putAll(run(jvm, jvmArgs, l, smoke, forks));
            if (agent != null) {
                agentRuns.putAll(run(jvm, with(jvmArgs, "-javaagent:" + agent + "=" + AGENT_OPTIONS), l, smoke, forks));
            }
            if (baseline) {
                baselineRuns.putAll(run(jvm, with(jvmArgs, "-javaagent:" + baselineAgent + "=" + AGENT_OPTIONS), l, smoke, forks));
            }
        }

        System.out.println();
        System.out.println("| " + label + " | benchmark | plain ns/op: best (mean ± error) | hand-woven (default poll) | ratio | hand-woven, `usethread.poll=flag` | ratio |"
                + (agent == null ? "" : " agent-woven | ratio |") + (baseline ? " earlier agent | ratio |" : ""));
        System.out.println("|---|---|---|---|---|---|---|" + (agent == null ? "" : "---|---|") + (baseline ? "---|---|" : ""));
        double logSumHand = 0;
        double logSumFlag = 0;
        double worstHand = 0;
        double worstFlag = 0;
        Ratios agentRatios = new Ratios();
        Ratios baselineRatios = new Ratios();
        for (String k : KERNELS) {
            RunResult p = plain.get(k);
            RunResult h = plain.get(k + "_handWoven");
            RunResult f = flag.get(k + "_handWoven");
            double rh = score(h) / score(p);
            double rf = score(f) / score(p);
            logSumHand += Math.log(rh);
            logSumFlag += Math.log(rf);
            worstHand = Math.max(worstHand, rh);
            worstFlag = Math.max(worstFlag, rf);
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| | %s | %s | %s | %.3f | %s | %.3f |",
                    k, cell(p), cell(h), rh, cell(f), rf));
            if (agent != null) {
                row.append(agentRatios.cell(agentRuns.get(k), p));
            }
            if (baseline) {
                row.append(baselineRatios.cell(baselineRuns.get(k), p));
            }
            System.out.println(row);
        }
        for (String l : LIBS) {
            RunResult p = plain.get(l);
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| | %s | %s | (not woven by hand) | | | |", l, cell(p)));
            if (agent != null) {
                row.append(agentRatios.cell(agentRuns.get(l), p));
            }
            if (baseline) {
                row.append(baselineRatios.cell(baselineRuns.get(l), p));
            }
            System.out.println(row);
        }
        int n = KERNELS.length;
        System.out.printf(Locale.ROOT, "| | **geometric mean** | | | **%+.1f %%** | | **%+.1f %%** |%s%s%n",
                pct(Math.exp(logSumHand / n)), pct(Math.exp(logSumFlag / n)),
                agent == null ? "" : String.format(Locale.ROOT, " | **%+.1f %%** |", pct(agentRatios.geometricMean())),
                baseline ? String.format(Locale.ROOT, " | **%+.1f %%** |", pct(baselineRatios.geometricMean())) : "");
        System.out.printf(Locale.ROOT, "| | **worst** | | | **%+.1f %%** | | **%+.1f %%** |%s%s%n",
                pct(worstHand), pct(worstFlag),
                agent == null ? "" : String.format(Locale.ROOT, " | **%+.1f %%** |", pct(agentRatios.worst)),
                baseline ? String.format(Locale.ROOT, " | **%+.1f %%** |", pct(baselineRatios.worst)) : "");
    }

    /** The agent-woven column: its cells, and the geometric mean and worst of its ratios. */
    private static final class Ratios {
        double logSum;
        double worst;
        int count;

        String cell(RunResult woven, RunResult plainRun) {
            double ratio = score(woven) / score(plainRun);
            logSum += Math.log(ratio);
            worst = Math.max(worst, ratio);
            count++;
            return String.format(Locale.ROOT, " %s | %.3f |", IdleSuite.cell(woven), ratio);
        }

        double geometricMean() {
            return Math.exp(logSum / count);
        }
    }

    private static double pct(double ratio) {
        return (ratio - 1) * 100;
    }

    private static List<String> with(List<String> base, String extra) {
        List<String> out = new ArrayList<>(base);
        out.add(extra);
        return out;
    }

    /**
     * The best (lowest) measured iteration over all forks. Other processes on a shared machine only
     * ever make an iteration slower, so the best iteration is the estimate least distorted by them;
     * the cells also show the mean and its 99.9 % error.
     */
    private static double score(RunResult r) {
        double best = Double.MAX_VALUE;
        for (BenchmarkResult b : r.getBenchmarkResults()) {
            for (IterationResult i : b.getIterationResults()) {
                best = Math.min(best, i.getPrimaryResult().getScore());
            }
        }
        return best;
    }

    private static String cell(RunResult r) {
        double mean = r.getPrimaryResult().getScore();
        double err = r.getPrimaryResult().getScoreError();
        return Double.isNaN(err)
                ? String.format(Locale.ROOT, "%.1f (%.1f)", score(r), mean)
                : String.format(Locale.ROOT, "%.1f (%.1f ± %.1f)", score(r), mean, err);
    }

    private static Map<String, RunResult> run(String jvm, List<String> jvmArgs, String names, boolean smoke, int forks)
            throws Exception {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(Idle.class.getName() + "\\." + names + "$")
                .jvmArgsAppend(jvmArgs.toArray(new String[0]))
                .shouldFailOnError(true);
        if (jvm != null) {
            options.jvm(jvm);
        }
        if (smoke) {
            options.forks(1).warmupIterations(1).warmupTime(TimeValue.milliseconds(100))
                    .measurementIterations(1).measurementTime(TimeValue.milliseconds(100));
        } else {
            options.forks(forks).warmupIterations(3).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(4).measurementTime(TimeValue.seconds(1));
        }
        Collection<RunResult> results = new Runner(options.build()).run();
        Map<String, RunResult> byName = new LinkedHashMap<>();
        for (RunResult r : results) {
            String full = r.getParams().getBenchmark();
            byName.put(full.substring(full.lastIndexOf('.') + 1), r);
        }
        return byName;
    }
}
