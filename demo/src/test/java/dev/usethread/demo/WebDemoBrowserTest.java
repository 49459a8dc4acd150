package dev.usethread.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import dev.usethread.UseThread;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Runs the web demo as {@code demo/run.sh --web} does (a child JVM with the built agent) and drives
 * its page in headless Chromium (Debian's chromium + chromium-driver). Skipped with a reason when
 * they are absent, unless {@code USETHREAD_BROWSER_REQUIRED=true} (CI), where that fails.
 */
class WebDemoBrowserTest {
    private static final Path CHROMIUM = Paths.get(setting("usethread.chromium", "USETHREAD_CHROMIUM", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Paths.get(setting("usethread.chromedriver", "USETHREAD_CHROMEDRIVER", "/usr/bin/chromedriver"));
    private static final Duration LIVENESS = Duration.ofSeconds(60); // generous: the machine may be busy
    private static final Pattern MILLIS = Pattern.compile("(\\d+) ms after");

    private WebDriver driver;

    @Test
    void thePageStreamsCancelsRetriesRestartsAndStopsARunawayRegex() throws Exception {
        requireOrSkipWithoutBrowser();
        long start = System.nanoTime();
        Path agent = Paths.get(System.getProperty("usethread.agent.jar", "../agent/target/usethread-agent.jar"));
        assertThat(agent).as("the agent jar is built before the demo").exists();
        Path log = Files.createTempFile("usethread-web-demo", ".log");
        Process server = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-javaagent:" + agent.toAbsolutePath() + "=jdk=java.util.regex",
                "-cp", location(WebDemo.class) + File.pathSeparator + location(UseThread.class),
                WebDemo.class.getName(), "--port", "0")
                .redirectError(log.toFile()).start();
        try {
            String url = serverUrl(server);
            driver = chromium();
            driver.get(url);
            waitFor("the agent is reported installed", () -> text("agent").contains("installed, intrusive"));

            // Partial values stream in while the state stays RUNNING.
            setLimit("50000000");
            int firstRun = waitForRun(0, "50,000,000");
            int partial = waitForFound(firstRun, 1);
            waitForFound(firstRun, partial + 1);
            screenshot("web-demo-running.png");

            // A new input supersedes the running job: a new run, counting to the new limit.
            setLimit("60000000");
            int secondRun = waitForRun(firstRun, "60,000,000");
            waitForFound(secondRun, 1);

            // Cancel: CANCELLED within a second of cancel() (as measured by the server, shown on the page).
            long clicked = click("primes-cancel");
            waitFor("CANCELLED", () -> text("primes-state").equals("CANCELLED"));
            System.out.printf("Cancel clicked -> CANCELLED on the page: %d ms (%s)%n",
                    (System.nanoTime() - clicked) / 1_000_000, text("primes-note"));
            assertThat(millis(text("primes-note"))).as(text("primes-note")).isLessThan(1000);
            assertThat(text("primes-found")).as("the partial count stays").matches("[0-9,]+");
            assertThat(text("primes-run")).isEqualTo("run " + secondRun);

            // A small limit finishes; Retry runs it again to the same end.
            setLimit("300000");
            waitFor("FINISHED with 25,997", () -> text("primes-state").equals("FINISHED") && text("primes-found").equals("25,997"));
            int finishedRun = runNumber(text("primes-run"));
            click("primes-retry");
            waitFor("the retried run FINISHED", () -> runNumber(text("primes-run")) > finishedRun
                    && text("primes-state").equals("FINISHED") && text("primes-found").equals("25,997"));

            // The regex box: the catastrophic pattern runs until Stop, which ends it inside java.util.regex.
            click("regex-run");
            waitFor("the regex RUNNING", () -> text("regex-state").equals("RUNNING"));
            clicked = click("regex-stop");
            waitFor("the regex CANCELLED", () -> text("regex-state").equals("CANCELLED"));
            System.out.printf("Stop clicked -> CANCELLED on the page: %d ms (%s)%n",
                    (System.nanoTime() - clicked) / 1_000_000, text("regex-detail"));
            assertThat(millis(text("regex-detail"))).as(text("regex-detail")).isLessThan(1000);
            assertThat(text("regex-detail")).contains("inside java.util.regex");
            screenshot("web-demo.png");

            // A harmless pattern finishes in the same box.
            WebElement input = driver.findElement(By.id("regex-input"));
            input.clear();
            input.sendKeys("xxxy");
            click("regex-run");
            waitFor("the regex FINISHED", () -> text("regex-state").equals("FINISHED") && text("regex-run-number").equals("run 2"));
            assertThat(text("regex-detail")).startsWith("The input matches");

            // A pattern that does not compile: ERROR, with the reason on one line.
            WebElement pattern = driver.findElement(By.id("regex-pattern"));
            pattern.clear();
            pattern.sendKeys("(x");
            click("regex-run");
            waitFor("the regex ERROR", () -> text("regex-state").equals("ERROR"));
            assertThat(text("regex-detail")).isEqualTo("PatternSyntaxException: Unclosed group near index 2");
            screenshot("web-demo-error.png");

            assertThat(server.isAlive()).as("the server is still serving").isTrue();
            System.out.printf("web demo browser test: %.1f s%n", (System.nanoTime() - start) / 1e9);
        } finally {
            if (driver != null) {
                driver.quit();
            }
            server.destroy();
            if (!server.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
            String errors = Files.readString(log, StandardCharsets.UTF_8);
            Files.deleteIfExists(log);
            assertThat(errors).as("the server's standard error").doesNotContain("Exception");
        }
    }

    private static void requireOrSkipWithoutBrowser() {
        if (Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER)) {
            return;
        }
        String reason = "no " + (Files.isExecutable(CHROMIUM) ? CHROMEDRIVER : CHROMIUM)
                + ", so the web demo's browser test cannot run; install Debian's chromium and chromium-driver";
        if (Boolean.parseBoolean(setting("usethread.browser.required", "USETHREAD_BROWSER_REQUIRED", "false"))) {
            fail(reason + " (the browser is required here: USETHREAD_BROWSER_REQUIRED=true)");
        }
        System.err.println("[web demo] SKIPPED: " + reason);
        Assumptions.abort(reason);
    }

    private static WebDriver chromium() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile()); // with the driver below, Selenium Manager never runs (no download)
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=900,1250", "--hide-scrollbars");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    /** The URL the server prints once it listens (the only line it writes to standard output). */
    private static String serverUrl(Process server) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        Pattern url = Pattern.compile("(http://localhost:\\d+/)");
        String line;
        while ((line = out.readLine()) != null) {
            Matcher m = url.matcher(line);
            if (m.find()) {
                assertThat(line).contains("agent installed: true");
                return m.group(1);
            }
        }
        throw new AssertionError("the web demo ended without printing its URL (exit " + server.waitFor() + ")");
    }

    private void setLimit(String value) {
        WebElement limit = driver.findElement(By.id("limit"));
        limit.clear();
        limit.sendKeys(value);
    }

    /** Waits for a run after {@code after} that is counting towards {@code limit}; returns its number. */
    private int waitForRun(int after, String limit) {
        waitFor("a run after " + after + " counting to " + limit, () -> runNumber(text("primes-run")) > after
                && text("primes-state").equals("RUNNING") && text("primes-checked").endsWith("of " + limit));
        return runNumber(text("primes-run"));
    }

    /** Waits until {@code run} shows at least {@code atLeast} primes while RUNNING (a partial value). */
    private int waitForFound(int run, int atLeast) {
        int[] found = new int[1];
        waitFor("run " + run + " RUNNING with at least " + atLeast + " primes", () -> {
            String state = text("primes-state");
            String count = text("primes-found").replace(",", "");
            if (!state.equals("RUNNING") || runNumber(text("primes-run")) != run || !count.matches("\\d+")
                    || !text("primes-checked").contains("so far")) {
                return false;
            }
            found[0] = Integer.parseInt(count);
            return found[0] >= atLeast;
        });
        return found[0];
    }

    private void waitFor(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + LIVENESS.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + LIVENESS + ": " + what + "; the page shows primes "
                        + text("primes-state") + " " + text("primes-run") + " " + text("primes-found") + " "
                        + text("primes-checked") + ", regex " + text("regex-state") + " " + text("regex-detail"));
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }

    private String text(String id) {
        return driver.findElement(By.id(id)).getText().trim();
    }

    /** Clicks a button once it is enabled; returns when it was clicked (System.nanoTime()). */
    private long click(String id) {
        WebElement button = driver.findElement(By.id(id));
        waitFor(id + " enabled", button::isEnabled);
        long at = System.nanoTime();
        button.click();
        return at;
    }

    private void screenshot(String name) throws Exception {
        Path target = Paths.get("target", name);
        Files.createDirectories(target.getParent());
        Files.write(target, ((org.openqa.selenium.TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    }

    private static int runNumber(String text) {
        return text.matches("run \\d+") ? Integer.parseInt(text.substring(4)) : 0;
    }

    private static long millis(String text) {
        Matcher m = MILLIS.matcher(text);
        assertThat(m.find()).as("a latency in '" + text + "'").isTrue();
        return Long.parseLong(m.group(1));
    }

    private static String location(Class<?> c) throws Exception {
        return Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    private static String setting(String property, String environmentVariable, String fallback) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            value = System.getenv(environmentVariable);
        }
        return value == null || value.isBlank() ? fallback : value.trim();
    }
}
