package dev.usethread.agent.weave;

import jdk.internal.vm.annotation.DontInline;

import java.util.Arrays;

/**
 * Weaves the same polls and hooks as {@link PollMethodWeaver}, by patching the class file bytes in
 * place of ASM's read-and-rewrite round trip: the constant pool is only measured (the
 * {@code Methodref}s the woven code calls are appended at its end), each woven method's code gets
 * the 3-byte poll calls and hooks ({@code dup; invokestatic caught} at handler starts, a bare
 * {@code invokestatic thrown} before {@code athrow}) inserted, and branch offsets,
 * switch padding, the exception table, StackMapTable, LineNumberTable, local variable tables and
 * type annotations in code are shifted accordingly. It runs while the application starts, mostly
 * before the JIT has compiled it, so it does as little per byte as it can.
 *
 * <p>Its per-table and rarely-run steps are HotSpot's {@code @DontInline} (honoured here: the agent's
 * jar is on the boot class path). Inlined into their callers again and again, they made C2 spend
 * 440–540 ms of CPU compiling the patcher at start-up, on the core the application needs; apart,
 * 260–270 ms, and the compiled patcher is as fast (BENCHMARKS.md, "Start-up, 3,000 classes").
 *
 * <p>It is also the gate for the ASM weaver: every length and offset it reads is checked against the
 * input, and it declines, with a reason, a class that is malformed, has attributes in code it does not
 * know, or has a shape whose polls could not stop it. Only a class it read completely and declined
 * because a short branch offset no longer fits is left to ASM (see {@link Weaver}).
 */
final class BytePatcher extends ClassFile {
    private static final int POLL_BYTES = 3;
    /** {@code dup; invokestatic Poll.caught(Throwable)}. */
    private static final int CAUGHT_BYTES = 4;
    /** {@code invokestatic Poll.thrown(Throwable)Throwable}: returns its argument, stack-neutral. */
    private static final int THROWN_BYTES = 3;
    private static final int NEWEST_VERSION = org.objectweb.asm.Opcodes.V25 & 0xFFFF;

    /**
     * The woven class and its poll count; {@code bytes == null} when there was nothing to weave or the
     * class was declined ({@code declined} says why).
     */
    static final class Result {
        final byte[] bytes;
        final int polls;
        /** Why the class is to be left as it was, or null. */
        final String declined;
        /** Whether the ASM weaver may weave it: read completely, only a branch offset did not fit. */
        final boolean asmMay;

        Result(byte[] bytes, int polls, String declined, boolean asmMay) {
            this.bytes = bytes;
            this.polls = polls;
            this.declined = declined;
            this.asmMay = asmMay;
        }

        static Result declined(String why) {
            return new Result(null, 0, why, false);
        }
    }

    private ConstantRefs refs;
    private int polls;
    /** The class from the access flags on; the constant pool is put before it at the end. */
    private ByteOut out;
    /** Offset of the method being patched (for messages). */
    private int method;
    /** Why the class is declined, once a method finds a reason; null while all is well. */
    private String declined;
    /** A short branch offset no longer fits: ASM may weave the class (it widens such branches). */
    private boolean overflow;
    /** Constants appended to the pool, as the woven code first needs them. */
    private ByteOut pool;
    private int nextConstant;
    private int ownerClass;
    private int groupOwnerClass;
    /** This class's poll group: its poll methods in GroupPolls, for back-edges and entries, and in handler code. */
    private int group;
    private int pollDesc;
    private int pollRef;
    private int pollInHandlerRef;
    private int caughtRef;
    private int thrownRef;

    /** Version < 50: no StackMapTable, HotSpot verifies by type inference (merging at handler starts). */
    private boolean inferenceVerifier;
    /**
     * Version < 51: the JVM rejects a switch whose padding bytes are not zero. The woven switch gets
     * new, zero padding, so such a class is declined, never repaired.
     */
    private boolean zeroPadding;

    private BytePatcher(byte[] in) {
        super(in);
    }

    /** Returns the woven class, or why it is declined; never null, never throws for any input. */
    static Result weave(byte[] classFile) {
        try {
            return new BytePatcher(classFile).run();
        } catch (Malformed e) {
            return Result.declined("malformed class file: " + e.getMessage());
        } catch (RuntimeException e) { // an index past the input: its message holds only numbers
            return Result.declined("malformed class file: " + e.getClass().getSimpleName());
        }
    }

    private static final byte[] CODE = ascii("Code");
    private static final byte[] CLINIT = ascii("<clinit>");
    private static final byte[] LINE_NUMBER_TABLE = ascii("LineNumberTable");
    private static final byte[] LOCAL_VARIABLE_TABLE = ascii("LocalVariableTable");
    private static final byte[] LOCAL_VARIABLE_TYPE_TABLE = ascii("LocalVariableTypeTable");
    private static final byte[] STACK_MAP_TABLE = ascii("StackMapTable");
    private static final byte[] RUNTIME_VISIBLE_TYPE_ANNOTATIONS = ascii("RuntimeVisibleTypeAnnotations");
    private static final byte[] RUNTIME_INVISIBLE_TYPE_ANNOTATIONS = ascii("RuntimeInvisibleTypeAnnotations");

    private Result run() {
        // Versions 45 (Java 1.1; before 50 without frames) up to the newest this project has verified.
        if (in.length < 10 || s4(0) != 0xCAFEBABE) {
            return Result.declined("cannot read class file: not a class file");
        }
        if (u2(6) < 45 || u2(6) > NEWEST_VERSION) {
            return Result.declined("cannot read class file: class-file version " + u2(6) + " (the agent weaves 45 to "
                    + NEWEST_VERSION + ")");
        }
        inferenceVerifier = u2(6) < 50;
        zeroPadding = u2(6) < 51;
        if (!readConstantPool()) {
            return Result.declined("malformed class file: unknown constant pool tag");
        }
        if ((u2(cpEnd) & 0x8000) != 0) { // module-info
            return new Result(null, 0, null, false);
        }
        refs = ConstantRefs.check(this);
        group = pollGroup();
        int p = fieldsStart();
        int fields = u2(p);
        p += 2;
        for (int i = 0; i < fields; i++) {
            p = skipMember(p);
        }
        int methodsStart = p;
        // Appended constants are numbered from cpCount on; every reference in the input was checked
        // against cpCount (ConstantRefs, scan), so none of them can point at one.
        nextConstant = cpCount;
        pool = new ByteOut(256); // room for every constant the inserted calls need
        out = ByteOut.reused(in.length - cpEnd + in.length / 8 + 64);
        out.bytes(in, cpEnd, methodsStart - cpEnd);
        p = methodsStart;
        int methods = u2(p);
        out.u2(methods);
        p += 2;
        for (int i = 0; i < methods; i++) {
            method = p;
            int macc = u2(p);
            boolean weavable = PollClassWeaver.weavableAccess(macc) && !utf8Is(u2(p + 2), CLINIT);
            out.bytes(in, p, 6);
            int attrs = u2(p + 6);
            out.u2(attrs);
            p += 8;
            for (int a = 0; a < attrs; a++) {
                int len = attributeLength(p);
                if (weavable && isCode(u2(p))) {
                    if (!code(p, len)) {
                        return Result.declined(declined != null ? declined : "not woven: " + methodName());
                    }
                } else {
                    out.bytes(in, p, 6 + len);
                }
                p += 6 + len;
            }
        }
        out.bytes(in, p, in.length - p);
        if (overflow || polls == 0) {
            out.recycle();
            return overflow ? new Result(null, 0, "branch offset too large with polls", true) : new Result(null, 0, null, false);
        }
        if (nextConstant > 0xFFFF) {
            return Result.declined("class too large with polls (constant pool " + cpCount + ")");
        }
        byte[] woven = new byte[cpEnd + pool.size + out.size];
        System.arraycopy(in, 0, woven, 0, cpEnd);
        woven[8] = (byte) (nextConstant >>> 8);
        woven[9] = (byte) nextConstant;
        System.arraycopy(pool.buf, 0, woven, cpEnd, pool.size);
        System.arraycopy(out.buf, 0, woven, cpEnd + pool.size, out.size);
        out.recycle(); // a class declined or thrown out of leaves its buffer to the collector
        return new Result(woven, polls, null, false);
    }

    /** The Code attribute's name constant, once found: a class names every method's code with the same one. */
    private int codeName = -1;

    private boolean isCode(int name) {
        if (name == codeName) {
            return true;
        }
        if (utf8Is(name, CODE)) {
            codeName = name;
            return true;
        }
        return false;
    }

    /** Name and descriptor of the method being patched, for messages. */
    private String methodName() {
        return printable(u2(method + 2)) + printable(u2(method + 4));
    }

    // The Utf8 constants of the inserted calls, encoded once: the patcher runs mostly before the JIT
    // has compiled it, and encoding them per class showed in its profile.
    private static final byte[] OWNER_UTF8 = utf8Constant(PollSites.OWNER);
    private static final byte[] GROUP_OWNER_UTF8 = utf8Constant(PollSites.GROUP_OWNER);
    private static final byte[] POLL_DESC_UTF8 = utf8Constant(PollSites.POLL_DESC);
    private static final byte[] CAUGHT_UTF8 = utf8Constant(PollSites.CAUGHT);
    private static final byte[] CAUGHT_DESC_UTF8 = utf8Constant(PollSites.CAUGHT_DESC);
    private static final byte[] THROWN_UTF8 = utf8Constant(PollSites.THROWN);
    private static final byte[] THROWN_DESC_UTF8 = utf8Constant(PollSites.THROWN_DESC);

    /** A whole CONSTANT_Utf8 entry of an ASCII name (every name the weaver inserts is one). */
    private static byte[] utf8Constant(String s) {
        byte[] b = new byte[3 + s.length()];
        b[0] = 1;
        b[1] = (byte) (s.length() >>> 8);
        b[2] = (byte) s.length();
        for (int i = 0; i < s.length(); i++) {
            b[3 + i] = (byte) s.charAt(i);
        }
        return b;
    }

    /**
     * Appends a {@code Methodref} to a hook {@code Poll.name(desc)} ({@code desc} given) or to this
     * class's poll {@code GroupPolls.name()} ({@code desc} null), and the constants it needs; returns its index.
     */
    @DontInline
    private int methodref(byte[] name, byte[] desc) {
        boolean hook = desc != null;
        if (hook && ownerClass == 0) {
            ownerClass = classConstant(OWNER_UTF8);
        } else if (!hook && groupOwnerClass == 0) {
            groupOwnerClass = classConstant(GROUP_OWNER_UTF8);
        }
        int descIndex = hook ? 0 : pollDesc;
        if (descIndex == 0) { // each hook's descriptor is used by its one Methodref only
            pool.bytes(hook ? desc : POLL_DESC_UTF8, 0, (hook ? desc : POLL_DESC_UTF8).length);
            descIndex = nextConstant++;
            if (!hook) {
                pollDesc = descIndex;
            }
        }
        pool.bytes(name, 0, name.length);
        pool.u1(12); // NameAndType
        pool.u2(nextConstant);
        pool.u2(descIndex);
        pool.u1(10); // Methodref
        pool.u2(hook ? ownerClass : groupOwnerClass);
        pool.u2(nextConstant + 1);
        nextConstant += 3;
        return nextConstant - 1;
    }

    // Instruction lengths by opcode: 0 for tableswitch, lookupswitch and wide (computed), -1 for
    // opcodes a class file may not contain. Tables, not branch chains: the
    // patcher runs while the application starts, mostly before the JIT has compiled it.
    private static final byte[] LENGTH = new byte[256];
    /**
     * What an opcode does to control flow: jumps and switches need their offsets rewritten, and
     * athrow gets a hook before it.
     */
    private static final byte[] KIND = new byte[256];
    /** Where an opcode's constant pool index is: 1 for a u1 (ldc), 2 for a u2 after the opcode, 0 for none. */
    private static final byte[] CONSTANT = new byte[256];
    private static final byte PLAIN = 0;
    private static final byte THROW = 1;
    private static final byte JUMP = 2;
    private static final byte JUMP_W = 3;
    private static final byte TABLESWITCH = 4;
    private static final byte LOOKUPSWITCH = 5;
    private static final int GOTO = 0xA7;
    private static final int JSR = 0xA8;
    private static final int RET = 0xA9;
    private static final int WIDE = 0xC4;
    private static final int GOTO_W = 0xC8;
    private static final int JSR_W = 0xC9;

    static {
        for (int op = 0; op < 256; op++) {
            LENGTH[op] = (byte) fixedLength(op);
            KIND[op] = (op >= 0x99 && op <= 0xA8) || op == 0xC6 || op == 0xC7 ? JUMP // 0xA8: jsr
                    : op == GOTO_W || op == JSR_W ? JUMP_W : op == 0xAA ? TABLESWITCH : op == 0xAB ? LOOKUPSWITCH
                    : op == 0xBF ? THROW : PLAIN;
            // ldc; ldc_w, ldc2_w; field access and calls; new, anewarray; checkcast, instanceof; multianewarray
            CONSTANT[op] = (byte) (op == 0x12 ? 1 : op == 0x13 || op == 0x14 || (op >= 0xB2 && op <= 0xBB) || op == 0xBD
                    || op == 0xC0 || op == 0xC1 || op == 0xC5 ? 2 : 0);
        }
    }

    private static int fixedLength(int op) {
        if (op <= 0x0F || (op >= 0x1A && op <= 0x35) || (op >= 0x3B && op <= 0x83)
                || (op >= 0x85 && op <= 0x98) || (op >= 0xAC && op <= 0xB1) || op == 0xBE || op == 0xBF
                || op == 0xC2 || op == 0xC3) {
            return 1;
        }
        if (op == 0x10 || op == 0x12 || (op >= 0x15 && op <= 0x19) || (op >= 0x36 && op <= 0x3A) || op == 0xA9
                || op == 0xBC) { // 0xA9: ret
            return 2;
        }
        if (op == 0x11 || op == 0x13 || op == 0x14 || op == 0x84 || (op >= 0x99 && op <= 0xA8)
                || (op >= 0xB2 && op <= 0xB8) || op == 0xBB || op == 0xBD || op == 0xC0 || op == 0xC1
                || op == 0xC6 || op == 0xC7) {
            return 3;
        }
        if (op == 0xC5) {
            return 4;
        }
        if (op == 0xB9 || op == 0xBA || op == 0xC8 || op == JSR_W) {
            return 5;
        }
        if (op == 0xAA || op == 0xAB || op == 0xC4) {
            return 0;
        }
        return -1; // reserved
    }

    /**
     * Length of a tableswitch, lookupswitch or wide instruction at {@code p} (code starting at
     * {@code base}), as read: the caller checks it against the code's end.
     */
    @DontInline
    private long variableLength(int base, int p, int op) {
        if (op == 0xC4) {
            return u1(p + 1) == 0x84 ? 6 : 4;
        }
        int q = p + 1 + ((4 - ((p + 1 - base) & 3)) & 3);
        if (op == 0xAA) {
            return q + 12 + 4 * ((long) s4(q + 8) - s4(q + 4) + 1) - p;
        }
        return q + 8 + 8L * s4(q + 4) - p;
    }

    /** Whether the jump or switch at {@code p} has a target at or before itself (a loop back-edge). */
    private boolean jumpsBack(int base, int p, int kind) {
        return anyTargetBelow(base, p, kind, 1);
    }

    /** Whether the jump or switch at {@code p} has a target less than {@code below} bytes after itself. */
    @DontInline
    private boolean anyTargetBelow(int base, int p, int kind, int below) {
        if (kind == JUMP) {
            return s2(p + 1) < below;
        }
        if (kind == JUMP_W) {
            return s4(p + 1) < below;
        }
        int q = p + 1 + ((4 - ((p + 1 - base) & 3)) & 3);
        if (s4(q) < below) {
            return true;
        }
        if (kind == TABLESWITCH) {
            int n = s4(q + 8) - s4(q + 4) + 1;
            for (int k = 0; k < n; k++) {
                if (s4(q + 12 + 4 * k) < below) {
                    return true;
                }
            }
        } else {
            int n = s4(q + 4);
            for (int k = 0; k < n; k++) {
                if (s4(q + 12 + 8 * k) < below) {
                    return true;
                }
            }
        }
        return false;
    }

    private static final byte START = 1;
    private static final byte POLL = 2;
    /** With POLL: every backward target is handler-only code, so the poll is {@code pollInHandler}. */
    private static final byte IN_HANDLER = 4;
    /** An exception handler starts here: the caught hook goes before the instruction. */
    private static final byte HANDLER = 8;

    // Per Code attribute: mark[offset] is START (| POLL | IN_HANDLER | HANDLER) at instruction starts;
    // sites[0..siteCount) are the offsets, in order, of the instructions that get code inserted
    // before them or offsets rewritten (jumps, switches, athrow, handler starts), and deltas[i] is how
    // far old offsets in (sites[i - 1], sites[i]] move; offsets after the last site move by lastDelta.
    private byte[] mark;
    private int[] sites = new int[64];
    private int[] deltas = new int[64];
    private int siteCount;
    private int lastDelta;
    /** Whether the method got a caught hook, whose {@code dup} needs a second stack slot. */
    private boolean caughtHooked;
    /** Where the current method's code starts in {@code in}. */
    private int codeBase;

    /** New offset of an old one that must be an instruction start or the code's end. */
    @DontInline
    private int moved(int old) {
        if (old < 0 || old >= mark.length || (mark[old] & START) == 0) {
            throw new Malformed("offset " + old + " is not an instruction");
        }
        int lo = movedHint; // tables list offsets mostly in order: try the last answer's site first
        if (lo <= siteCount && (lo == siteCount || sites[lo] >= old) && (lo == 0 || sites[lo - 1] < old)) {
            return old + (lo < siteCount ? deltas[lo] : lastDelta);
        }
        lo = 0;
        int hi = siteCount;
        while (lo < hi) { // first site at or after old
            int mid = (lo + hi) >>> 1;
            if (sites[mid] < old) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        movedHint = lo;
        return old + (lo < siteCount ? deltas[lo] : lastDelta);
    }

    /** The site index moved() found last, a guess checked before it is used (any value is safe). */
    private int movedHint;

    /**
     * New offset of the instruction at {@code old} itself, after the code inserted before it: what
     * frames (Uninitialized) and type annotations name, where moved() gives the inserted code.
     */
    @DontInline
    private int instructionMoved(int old) {
        int at = moved(old);
        int m = mark[old];
        if ((m & HANDLER) != 0) {
            at += CAUGHT_BYTES;
        }
        if ((m & POLL) != 0) {
            at += POLL_BYTES;
        }
        if (old < mark.length - 1 && KIND[in[codeBase + old] & 0xFF] == THROW) {
            at += THROWN_BYTES;
        }
        return at;
    }

    /**
     * Writes the patched Code attribute starting at {@code attr}, whose body is {@code len} bytes
     * (checked to lie in the input); false, with {@code declined} set, if the class must stay as it
     * was. Every part is read exactly to the attribute's end: a class the JVM would reject for a
     * wrong length is declined, never rewritten into one it accepts. Only jumps and switches are
     * decoded further; the code between sites is copied in one piece. Split into small methods on
     * purpose: the JIT compiles each quickly while the application starts (as one method, C2 spent
     * about 450 ms compiling it, on a core the application needed).
     */
    private boolean code(int attr, int len) {
        maxStackIn = u2(attr + 6);
        int codeLength = s4(attr + 10);
        if (codeLength <= 0 || codeLength > 0xFFFF || codeLength > len - 12) {
            throw new Malformed("code length " + codeLength);
        }
        int base = attr + 14;
        int end = base + codeLength;
        int exc = end + 2;
        int excCount = u2(end);
        within(exc, 8L * excCount, "exception table");
        codeBase = base;
        mark = new byte[codeLength + 1];
        for (int i = 0; i < excCount; i++) {
            int handler = u2(exc + 8 * i + 4);
            if (handler >= codeLength) {
                throw new Malformed("offset " + handler + " is not an instruction");
            }
            mark[handler] = HANDLER;
        }
        if (!scan(base, end, exc, excCount)) {
            return false;
        }
        if (excCount > 0) {
            handlers(base, codeLength, exc, excCount);
            if (inferenceVerifier) {
                unhookHandlersReachedNormally(base, end);
            }
        }
        int count = layout(base);
        int newLength = codeLength + lastDelta;
        int maxStack = hookedMaxStack(maxStackIn, caughtHooked);
        if (newLength > 0xFFFF) {
            declined = "method too large with polls: " + methodName() + " (" + newLength + " bytes)";
            return false;
        }
        out.bytes(in, attr, 2); // attribute_name_index; the length is set at the end
        int attrLengthAt = out.size;
        out.u4(0);
        out.u2(maxStack);
        out.bytes(in, attr + 8, 2); // max_locals
        out.u4(newLength);
        int codeStart = out.size;
        if (!writeCode(base, end, codeStart)) {
            return false;
        }
        if (out.size - codeStart != newLength) {
            throw new IllegalStateException("length");
        }
        out.u2(excCount);
        for (int i = 0; i < excCount; i++) {
            int e = exc + 8 * i;
            out.u2(moved(u2(e)));
            out.u2(moved(u2(e + 2)));
            out.u2(moved(u2(e + 4)));
            refs.ref(e + 6);
            out.u2(u2(e + 6));
        }
        codeAttributes(exc + 8 * excCount, attr + 6 + len);
        out.setU4(attrLengthAt, out.size - attrLengthAt - 4);
        polls += count;
        return true;
    }

    /**
     * Finds instruction starts and the sites: jumps, switches, athrows, handler starts, and which
     * get a poll (back-edges); false, with {@code declined} set, for a shape whose polls could not
     * stop the method.
     */
    @DontInline
    private boolean scan(int base, int end, int exc, int excCount) {
        siteCount = 0;
        int p = base;
        while (p < end) {
            int op = in[p] & 0xFF;
            long len = LENGTH[op];
            if (len <= 0) {
                if (len < 0) {
                    throw new Malformed("opcode " + op);
                }
                len = variableLength(base, p, op);
            }
            if (len <= 0 || len > end - p) {
                throw new Malformed("instruction at offset " + (p - base) + " runs past the end of the code");
            }
            byte kind = KIND[op];
            if (kind == PLAIN && mark[p - base] == 0) {
                mark[p - base] = START;
            } else {
                site(base, p, kind, exc, excCount);
            }
            int where = CONSTANT[op];
            int constant = where == 0 ? 0 : where == 1 ? in[p + 1] & 0xFF : (in[p + 1] & 0xFF) << 8 | (in[p + 2] & 0xFF);
            if (constant >= cpCount) {
                throw new Malformed("constant #" + constant + " is past the constant pool");
            }
            p += (int) len;
        }
        mark[end - base] = START;
        if (caughtForEver(base, exc, excCount)) {
            declined = "a loop in " + methodName() + " lies in a try range before that range's own handler, which"
                    + " jumps back: the handler would catch the cancellation signal for ever";
            return false;
        }
        return true;
    }

    @DontInline
    private void site(int base, int p, byte kind, int exc, int excCount) {
        int pos = p - base;
        if (siteCount == sites.length) {
            sites = Arrays.copyOf(sites, siteCount * 2);
            deltas = Arrays.copyOf(deltas, siteCount * 2);
        }
        sites[siteCount++] = pos;
        int m = mark[pos] | START;
        int op = in[p] & 0xFF;
        if (kind >= TABLESWITCH && zeroPadding) {
            for (int q = p + 1; ((q - base) & 3) != 0; q++) {
                if (in[q] != 0) {
                    throw new Malformed("non-zero padding in the switch at offset " + pos);
                }
            }
        }
        // A backward jsr calls a subroutine: not a loop.
        if (kind >= JUMP && op != JSR && op != JSR_W && jumpsBack(base, p, kind) && !selfCovered(exc, excCount, pos)) {
            m |= POLL;
        }
        mark[pos] = (byte) m;
    }

    /** Checks that the handlers start at instructions, and marks the polls of loops in handler code. */
    @DontInline
    private void handlers(int base, int codeLength, int exc, int excCount) {
        for (int i = 0; i < excCount; i++) {
            instruction(u2(exc + 8 * i + 4));
        }
        for (int i = 0; i < siteCount; i++) {
            if ((mark[sites[i]] & POLL) != 0) {
                handlerLoops(base, codeLength);
                break;
            }
        }
    }

    /**
     * Marks IN_HANDLER the polled back-edges whose backward targets are all handler-only code: code
     * that offset 0 does not reach by normal control flow (handler starts are not roots). The same
     * rule as {@link HandlerCode} for the ASM weaver: a {@code jsr} is normal flow to its target and
     * to the instruction after it, and {@code ret}, like a return, ends the flow.
     */
    private void handlerLoops(int base, int codeLength) {
        // The polled back-edges' targets, the loops' heads: once the walk has reached them all, none
        // is handler-only, and the rest of the walk is skipped (most methods: their loops come early).
        boolean[] head = new boolean[codeLength];
        int heads = 0;
        for (int i = 0; i < siteCount; i++) {
            int pos = sites[i];
            if ((mark[pos] & POLL) != 0) {
                int p = base + pos;
                byte kind = KIND[in[p] & 0xFF];
                for (int k = 0, n = targetCount(base, p, kind); k < n; k++) {
                    int t = target(base, p, kind, k);
                    if (t <= 0 && !head[instruction(pos + t)]) {
                        head[pos + t] = true;
                        heads++;
                    }
                }
            }
        }
        boolean[] normal = new boolean[codeLength];
        int[] work = new int[16];
        int top = 0;
        work[top++] = 0;
        while (top > 0) {
            int pos = work[--top];
            while (!normal[pos]) {
                normal[pos] = true;
                if (head[pos] && --heads == 0) {
                    return; // every polled back-edge targets normal code: none gets pollInHandler
                }
                int p = base + pos;
                int op = in[p] & 0xFF;
                byte kind = KIND[op];
                if (kind >= JUMP) {
                    int n = targetCount(base, p, kind);
                    for (int k = 0; k < n; k++) {
                        if (top == work.length) {
                            work = Arrays.copyOf(work, top * 2);
                        }
                        work[top++] = instruction(pos + target(base, p, kind, k));
                    }
                    if (kind >= TABLESWITCH || op == GOTO || op == GOTO_W) {
                        break;
                    }
                } else if (kind == THROW || (op >= 0xAC && op <= 0xB1) || op == RET
                        || (op == WIDE && (in[p + 1] & 0xFF) == RET)) { // athrow, returns, ret
                    break;
                }
                int len = LENGTH[op];
                pos += len > 0 ? len : (int) variableLength(base, p, op);
                if (pos == codeLength) { // fell off the end: the verifier rejects it, moved() says so
                    break;
                }
            }
        }
        for (int i = 0; i < siteCount; i++) {
            int pos = sites[i];
            if ((mark[pos] & POLL) != 0 && backwardTargetsHandlerOnly(base, pos, normal)) {
                mark[pos] |= IN_HANDLER;
            }
        }
    }

    /** {@code pos} if an instruction starts there; otherwise the class is malformed. */
    private int instruction(int pos) {
        if (pos < 0 || pos >= mark.length - 1 || (mark[pos] & START) == 0) {
            throw new Malformed("offset " + pos + " is not an instruction");
        }
        return pos;
    }

    private boolean backwardTargetsHandlerOnly(int base, int pos, boolean[] normal) {
        int p = base + pos;
        byte kind = KIND[in[p] & 0xFF];
        int n = targetCount(base, p, kind);
        for (int k = 0; k < n; k++) {
            int t = target(base, p, kind, k);
            if (t <= 0 && normal[instruction(pos + t)]) {
                return false;
            }
        }
        return true;
    }

    /** Number of targets of the jump or switch at {@code p}. */
    private int targetCount(int base, int p, byte kind) {
        if (kind < TABLESWITCH) {
            return 1;
        }
        int q = p + 1 + ((4 - ((p + 1 - base) & 3)) & 3);
        return 1 + (kind == TABLESWITCH ? s4(q + 8) - s4(q + 4) + 1 : s4(q + 4));
    }

    /** Relative offset of target {@code k} of the jump or switch at {@code p} (0: a switch's default). */
    private int target(int base, int p, byte kind, int k) {
        if (kind == JUMP) {
            return s2(p + 1);
        }
        if (kind == JUMP_W) {
            return s4(p + 1);
        }
        int q = p + 1 + ((4 - ((p + 1 - base) & 3)) & 3);
        if (k == 0) {
            return s4(q);
        }
        return kind == TABLESWITCH ? s4(q + 8 + 4 * k) : s4(q + 4 + 8 * k);
    }

    /**
     * Sets the deltas: offsets move by the entry poll, the code inserted before them and the changed
     * padding of switches before them. Code inserted at an instruction stays after that
     * instruction's labels and frame, so the instruction's own old offset moves like the code before
     * it (jumps and handlers that target it run the inserted code). Returns the number of polls.
     */
    @DontInline
    private int layout(int base) {
        int delta = POLL_BYTES;
        int count = 1;
        caughtHooked = false;
        for (int i = 0; i < siteCount; i++) {
            int pos = sites[i];
            deltas[i] = delta;
            int m = mark[pos];
            byte kind = KIND[in[base + pos] & 0xFF];
            if ((m & HANDLER) != 0) {
                delta += CAUGHT_BYTES;
                caughtHooked = true;
            }
            if (kind == THROW) {
                delta += THROWN_BYTES;
            }
            if ((m & POLL) != 0) {
                delta += POLL_BYTES;
                count++;
            }
            if (kind >= TABLESWITCH) {
                int oldPad = (4 - ((pos + 1) & 3)) & 3;
                int newPad = (4 - ((pos + delta + 1) & 3)) & 3;
                delta += newPad - oldPad;
            }
        }
        lastDelta = delta;
        return count;
    }

    /**
     * The max_stack of a woven method: a caught hook's {@code dup} runs where the handler's stack
     * holds exactly the throwable, so two slots suffice; nothing else needs more. Never original + 1:
     * that would make a method whose max_stack was one too small (which the JVM rejects) load. A
     * method with a handler and max_stack 0 is invalid, and stays so. Shared with the ASM weaver.
     */
    static int hookedMaxStack(int maxStack, boolean caughtHooked) {
        return caughtHooked && maxStack != 0 ? Math.max(maxStack, 2) : maxStack;
    }

    /**
     * Before version 50 HotSpot infers types, merging every way into an instruction: a handler start
     * that normal flow also reaches (fall-through, a jump, switch or jsr to it, or offset 0) may hold
     * there something the caught hook's {@code Throwable} parameter does not accept. Such a handler
     * gets no caught hook. The same rule as {@link HandlerCode#handlerStartsReachedNormally}.
     */
    private void unhookHandlersReachedNormally(int base, int end) {
        mark[0] &= ~HANDLER;
        int p = base;
        while (p < end) {
            int pos = p - base;
            int op = in[p] & 0xFF;
            byte kind = KIND[op];
            int len = LENGTH[op];
            int next = pos + (len > 0 ? len : (int) variableLength(base, p, op));
            if (kind >= JUMP) {
                int n = targetCount(base, p, kind);
                for (int k = 0; k < n; k++) {
                    mark[instruction(pos + target(base, p, kind, k))] &= ~HANDLER;
                }
            }
            boolean ends = kind >= TABLESWITCH || op == GOTO || op == GOTO_W || kind == THROW
                    || (op >= 0xAC && op <= 0xB1) || op == RET || (op == WIDE && (in[p + 1] & 0xFF) == RET);
            if (!ends) {
                mark[next] &= ~HANDLER; // next may be the code's end, marked START only
            }
            p = base + next;
        }
    }

    /**
     * Writes the code: the entry poll, then the old code with the hooks, polls and moved jump
     * offsets. At a site: the caught hook (a handler starts here), the poll, the thrown hook (before
     * athrow), then the instruction.
     */
    @DontInline
    private boolean writeCode(int base, int end, int codeStart) {
        pollCall(false);
        int copied = base;
        for (int i = 0; i < siteCount; i++) {
            int pos = sites[i];
            int p = base + pos;
            out.bytes(in, copied, p - copied);
            int m = mark[pos];
            int op = in[p] & 0xFF;
            byte kind = KIND[op];
            int inserted = 0;
            if ((m & HANDLER) != 0) {
                hookCall(true);
                inserted += CAUGHT_BYTES;
            }
            if ((m & POLL) != 0) {
                pollCall((m & IN_HANDLER) != 0);
                inserted += POLL_BYTES;
            }
            if (kind == THROW) {
                hookCall(false);
                inserted += THROWN_BYTES;
            }
            int now = out.size - codeStart;
            if (now != pos + deltas[i] + inserted) {
                throw new IllegalStateException("offset");
            }
            if (kind == JUMP) {
                int d = moved(pos + s2(p + 1)) - now;
                if (d != (short) d) {
                    overflow = true; // ASM widens it; the rest of the class is still read, to check it
                }
                out.u1(op);
                out.u2(d);
                copied = p + 3;
            } else if (kind == JUMP_W) {
                out.u1(op);
                out.u4(moved(pos + s4(p + 1)) - now);
                copied = p + 5;
            } else if (kind >= TABLESWITCH) {
                copied = p + writeSwitch(base, p, kind, now, codeStart);
            } else {
                copied = p; // athrow or a handler's first instruction: copied with the code after it
            }
        }
        out.bytes(in, copied, end - copied);
        return true;
    }

    /** Writes a switch at its new place (new padding, moved targets); returns its old length. */
    @DontInline
    private int writeSwitch(int base, int p, byte kind, int now, int codeStart) {
        int pos = p - base;
        int q = p + 1 + ((4 - ((p + 1 - base) & 3)) & 3);
        out.u1(in[p] & 0xFF);
        while (((out.size - codeStart) & 3) != 0) {
            out.u1(0);
        }
        out.u4(moved(pos + s4(q)) - now);
        if (kind == TABLESWITCH) {
            int lo = s4(q + 4);
            int hi = s4(q + 8);
            out.u4(lo);
            out.u4(hi);
            for (int k = 0; k < hi - lo + 1; k++) {
                out.u4(moved(pos + s4(q + 12 + 4 * k)) - now);
            }
        } else {
            int n = s4(q + 4);
            out.u4(n);
            for (int k = 0; k < n; k++) {
                out.u4(s4(q + 8 + 8 * k));
                out.u4(moved(pos + s4(q + 12 + 8 * k)) - now);
            }
        }
        return (int) variableLength(base, p, in[p] & 0xFF);
    }

    /**
     * Copies the Code attribute's own attributes starting at {@code a}, offsets moved; each must end
     * where its length says, and the last where the Code attribute ends ({@code codeEnd}). An attribute
     * the JVM does not read (any other name, such as the CLDC {@code StackMap} of old Jython classes)
     * is dropped: the JVM ignores it, so the class loads and runs as it would have, and offsets it may
     * hold would describe the code before the polls.
     */
    @DontInline
    private void codeAttributes(int a, int codeEnd) {
        int attrs = u2(a);
        int countAt = out.size;
        out.u2(attrs);
        int kept = 0;
        a += 2;
        for (int i = 0; i < attrs; i++) {
            int name = u2(a);
            int len = attributeLength(a);
            int body = a + 6;
            int kind = codeAttributeKind(name);
            if (kind == 0) {
                a = body + len;
                continue;
            }
            kept++;
            out.u2(name);
            int lenAt = out.size;
            out.u4(0);
            int bodyEnd = kind == 1 ? lineNumbers(body) : kind == 2 ? localVariables(body)
                    : kind == 3 ? frames(body) : typeAnnotations(body);
            if (bodyEnd != body + len) {
                throw new Malformed("code attribute length " + len);
            }
            out.setU4(lenAt, out.size - lenAt - 4);
            a = body + len;
        }
        if (a != codeEnd) {
            throw new Malformed("Code attribute length");
        }
        out.setU2(countAt, kept);
    }

    /**
     * What the Code attribute named {@code name} is: 1 a line number table, 2 a local variable (type)
     * table, 3 a stack map table, 4 a type annotation table; 0 for any other, which the JVM ignores.
     */
    private int codeAttributeKind(int name) {
        if (codeAttributeKinds == null) {
            codeAttributeKinds = new byte[cpCount];
        }
        int kind = name > 0 && name < cpCount ? codeAttributeKinds[name] - 1 : -1;
        if (kind < 0) {
            kind = classifyCodeAttribute(name);
            codeAttributeKinds[name] = (byte) (kind + 1);
        }
        return kind;
    }

    /** Per name constant: 1 + its codeAttributeKind once found, 0 before; classes repeat a few names. */
    private byte[] codeAttributeKinds;

    private int classifyCodeAttribute(int name) {
        int p = utf8(name);
        return utf8At(p, LINE_NUMBER_TABLE) ? 1
                : utf8At(p, LOCAL_VARIABLE_TABLE) || utf8At(p, LOCAL_VARIABLE_TYPE_TABLE) ? 2
                : utf8At(p, STACK_MAP_TABLE) ? 3
                : utf8At(p, RUNTIME_VISIBLE_TYPE_ANNOTATIONS) || utf8At(p, RUNTIME_INVISIBLE_TYPE_ANNOTATIONS) ? 4
                : 0;
    }

    // The tables below are written straight into the buffer, room made once per table: they are the
    // bulk of most Code attributes, and a call per u2 costs while the JIT has not compiled the patcher.

    /** Copies a table's u2 count, checks its {@code size}-byte entries lie in the input, makes room for them; returns its end. */
    private int table(int body, int size, String what) {
        int n = u2(body);
        int end = within(body + 2, (long) size * n, what);
        out.u2(n);
        out.room(size * n);
        return end;
    }

    @DontInline
    private int lineNumbers(int body) {
        int end = table(body, 4, "LineNumberTable");
        byte[] o = out.buf;
        int w = out.size;
        byte[] b = in;
        for (int q = body + 2; q < end; q += 4) {
            int pc = (b[q] & 0xFF) << 8 | (b[q + 1] & 0xFF);
            int at = pc == 0 ? 0 : moved(pc); // the entry poll takes the first line: a frame stopped there has it
            o[w] = (byte) (at >>> 8);
            o[w + 1] = (byte) at;
            o[w + 2] = b[q + 2];
            o[w + 3] = b[q + 3];
            w += 4;
        }
        out.size = w;
        return end;
    }

    @DontInline
    private int localVariables(int body) {
        int end = table(body, 10, "LocalVariableTable");
        byte[] o = out.buf;
        int w = out.size;
        byte[] b = in;
        for (int v = body + 2; v < end; v += 10) {
            int start = (b[v] & 0xFF) << 8 | (b[v + 1] & 0xFF);
            int from = moved(start);
            int to = moved(start + ((b[v + 2] & 0xFF) << 8 | (b[v + 3] & 0xFF)));
            if (((b[v + 4] & 0xFF) << 8 | (b[v + 5] & 0xFF)) >= cpCount
                    || ((b[v + 6] & 0xFF) << 8 | (b[v + 7] & 0xFF)) >= cpCount) {
                constant(v + 4); // name and descriptor (or signature): throws, saying which
                constant(v + 6);
            }
            int length = to - from;
            o[w] = (byte) (from >>> 8);
            o[w + 1] = (byte) from;
            o[w + 2] = (byte) (length >>> 8);
            o[w + 3] = (byte) length;
            System.arraycopy(b, v + 4, o, w + 4, 6);
            w += 10;
        }
        out.size = w;
        return end;
    }

    /** Whether {@code pos} lies in a range whose handler lies inside that range at or before pos. */
    private boolean selfCovered(int exc, int count, int pos) {
        for (int i = 0; i < count; i++) {
            int e = exc + 8 * i;
            int from = u2(e);
            int to = u2(e + 2);
            int handler = u2(e + 4);
            if (from <= handler && handler < to && handler <= pos && pos < to) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a try range holds a polled back-edge before its own handler, and at or after the handler
     * a jump back before it (not polled: the handler covers it). A poll there throws into the handler,
     * which runs the loop again, whose poll throws again, for ever. javac never emits it: its handlers
     * inside their own range ({@code synchronized}) rethrow.
     */
    @DontInline
    private boolean caughtForEver(int base, int exc, int count) {
        for (int i = 0; i < count; i++) {
            int e = exc + 8 * i;
            int from = u2(e);
            int to = u2(e + 2);
            int handler = u2(e + 4);
            if (from >= handler || handler >= to) {
                continue;
            }
            boolean polled = false;
            boolean jumpsBackFromHandler = false;
            for (int k = 0; k < siteCount; k++) {
                int pos = sites[k];
                byte kind = KIND[in[base + pos] & 0xFF];
                if (from <= pos && pos < handler && (mark[pos] & POLL) != 0) {
                    polled = true;
                } else if (kind >= JUMP && handler <= pos && pos < to
                        && anyTargetBelow(base, base + pos, kind, handler - pos)) {
                    jumpsBackFromHandler = true;
                }
            }
            if (polled && jumpsBackFromHandler) {
                return true;
            }
        }
        return false;
    }

    /** The max_stack of the method being copied, before any hook's extra slot. */
    private int maxStackIn;

    /**
     * Copies a StackMapTable, offsets moved; returns its end. A frame whose stack exceeds max_stack is
     * malformed (the JVM's ClassFormatError); the hooks' extra slot must not make it fit.
     */
    @DontInline
    private int frames(int body) {
        int n = u2(body);
        out.u2(n);
        int p = body + 2;
        int old = -1;
        int now = -1;
        for (int k = 0; k < n; k++) {
            int type = u1(p);
            int delta;
            int rest;
            if (type < 64) {
                delta = type;
                rest = p + 1;
            } else if (type < 128) {
                delta = type - 64;
                rest = p + 1;
            } else if (type >= 247) {
                delta = u2(p + 1);
                rest = p + 3;
            } else {
                throw new Malformed("frame type " + type);
            }
            old = old + delta + 1;
            int pos = moved(old);
            int d = pos - now - 1;
            now = pos;
            if (type < 64 || type == 251) {
                if (d < 64) {
                    out.u1(d);
                } else {
                    out.u1(251);
                    out.u2(d);
                }
                p = rest;
            } else if (type < 128 || type == 247) {
                if (d < 64) {
                    out.u1(64 + d);
                } else {
                    out.u1(247);
                    out.u2(d);
                }
                stackFits(rest, 1);
                p = types(rest, 1);
            } else if (type < 251) {
                out.u1(type);
                out.u2(d);
                p = rest;
            } else if (type < 255) {
                out.u1(type);
                out.u2(d);
                p = types(rest, type - 251);
            } else {
                out.u1(type);
                out.u2(d);
                int locals = u2(rest);
                out.u2(locals);
                int q = types(rest + 2, locals);
                int stack = u2(q);
                out.u2(stack);
                stackFits(q + 2, stack);
                p = types(q + 2, stack);
            }
        }
        return p;
    }

    /**
     * Copies the type annotations of a Code attribute (JVMS 4.7.20), moving the offsets of their
     * targets (local variable ranges, and the instructions new, instanceof, checkcast, method
     * references and calls with type arguments); returns the end. Other targets cannot occur in code.
     */
    @DontInline
    private int typeAnnotations(int p) {
        int n = u2(p);
        out.u2(n);
        p += 2;
        for (int i = 0; i < n; i++) {
            int target = u1(p);
            out.u1(target);
            p++;
            if (target == 0x40 || target == 0x41) { // local variable, resource variable
                int ranges = u2(p);
                out.u2(ranges);
                p += 2;
                for (int k = 0; k < ranges; k++) {
                    int from = moved(u2(p));
                    int to = moved(u2(p) + u2(p + 2));
                    out.u2(from);
                    out.u2(to - from);
                    out.bytes(in, p + 4, 2);
                    p += 6;
                }
            } else if (target == 0x42) { // exception parameter: an exception table index
                out.bytes(in, p, 2);
                p += 2;
            } else if (target >= 0x43 && target <= 0x46) { // instanceof, new, method references
                out.u2(instructionMoved(u2(p)));
                p += 2;
            } else if (target >= 0x47 && target <= 0x4B) { // cast, type arguments
                out.u2(instructionMoved(u2(p)));
                out.bytes(in, p + 2, 1);
                p += 3;
            } else {
                throw new Malformed("type annotation target " + target + " in code");
            }
            int rest = refs.annotation(p + 1 + 2 * u1(p)); // type_path, then the annotation proper
            out.bytes(in, p, rest - p);
            p = rest;
        }
        return p;
    }

    /** Copies {@code n} verification types, remapping Uninitialized(offset); returns the end. */
    /** Throws Malformed if the n verification types at p (long and double take two slots) exceed max_stack. */
    private void stackFits(int p, int n) {
        int slots = 0;
        for (int i = 0; i < n; i++) {
            int tag = u1(p);
            slots += tag == 3 || tag == 4 ? 2 : 1;
            p += tag == 7 || tag == 8 ? 3 : 1;
        }
        if (slots > maxStackIn) {
            // A StringBuilder, not +: a new concatenation shape would allocate for its own linking.
            throw new Malformed(new StringBuilder("a frame's stack of ").append(slots).append(" slots exceeds max_stack ")
                    .append(maxStackIn).append(" in ").append(methodName()).toString());
        }
    }

    private int types(int p, int n) {
        for (int i = 0; i < n; i++) {
            int tag = u1(p);
            out.u1(tag);
            if (tag == 7) {
                refs.ref(p + 1);
                out.u2(u2(p + 1));
                p += 3;
            } else if (tag == 8) { // Uninitialized(offset of the new), which may start a handler
                out.u2(instructionMoved(u2(p + 1)));
                p += 3;
            } else if (tag <= 6) {
                p += 1;
            } else {
                throw new Malformed("verification type " + tag);
            }
        }
        return p;
    }

    @DontInline
    private int classConstant(byte[] internalName) {
        pool.bytes(internalName, 0, internalName.length);
        pool.u1(7); // Class
        pool.u2(nextConstant);
        nextConstant += 2;
        return nextConstant - 1;
    }

    @DontInline
    private void pollCall(boolean inHandler) {
        int ref;
        if (inHandler) {
            ref = pollInHandlerRef != 0 ? pollInHandlerRef
                    : (pollInHandlerRef = methodref(utf8Constant(PollSites.pollName(group, PollSites.POLL_IN_HANDLER)), null));
        } else {
            ref = pollRef != 0 ? pollRef : (pollRef = methodref(utf8Constant(PollSites.pollName(group, PollSites.POLL)), null));
        }
        out.u1(0xB8); // invokestatic
        out.u2(ref);
    }

    /**
     * {@code dup; invokestatic Poll.caught(Throwable)V} or {@code invokestatic Poll.thrown(Throwable)Throwable}:
     * either way the throwable on the stack stays.
     */
    @DontInline
    private void hookCall(boolean caught) {
        int ref;
        if (caught) {
            ref = caughtRef != 0 ? caughtRef : (caughtRef = methodref(CAUGHT_UTF8, CAUGHT_DESC_UTF8));
            out.u1(0x59); // dup
        } else {
            ref = thrownRef != 0 ? thrownRef : (thrownRef = methodref(THROWN_UTF8, THROWN_DESC_UTF8));
        }
        out.u1(0xB8);
        out.u2(ref);
    }
}
