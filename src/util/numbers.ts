// Go's float formatting (fmt %g / %f, strconv.FormatFloat 'g' / 'f' with a precision),
// digit for digit. JavaScript's toPrecision/toFixed round exact ties away from zero;
// Go rounds the exact binary value half to even, and prints exponents as "e+06" and
// drops trailing zeros in %g — the sizes docker prints ("1.12kB", "1e+04YB") depend on it.

/** The exact decimal expansion of a finite, non-negative double: value = 0.digits × 10^point. */
interface Decimal {
  digits: string;
  /** Position of the decimal point relative to the first digit. */
  point: number;
}

function exactDecimal(value: number): Decimal {
  if (value === 0) return { digits: '0', point: 1 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biasedExponent = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exponent: number;
  if (biasedExponent === 0) {
    exponent = -1074;
  } else {
    mantissa |= 1n << 52n;
    exponent = biasedExponent - 1075;
  }
  // value = mantissa × 2^exponent
  let integerDigits: string;
  let fractionLength = 0;
  if (exponent >= 0) {
    integerDigits = (mantissa << BigInt(exponent)).toString();
  } else {
    // mantissa / 2^k = mantissa × 5^k / 10^k
    fractionLength = -exponent;
    integerDigits = (mantissa * 5n ** BigInt(fractionLength)).toString();
  }
  const point = integerDigits.length - fractionLength;
  const trimmed = integerDigits.replace(/^0+/, '');
  const leadingZeros = integerDigits.length - trimmed.length;
  return { digits: trimmed.replace(/0+$/, '') || '0', point: point - leadingZeros };
}

/** Round to `keep` leading digits, half to even on the exact value. */
function roundDigits(d: Decimal, keep: number): Decimal {
  if (keep < 0) return { digits: '0', point: d.point };
  if (d.digits.length <= keep) return d;
  const head = d.digits.slice(0, keep);
  const next = d.digits.charCodeAt(keep) - 48;
  const rest = d.digits.slice(keep + 1);
  const lastEven = keep === 0 ? true : (head.charCodeAt(keep - 1) - 48) % 2 === 0;
  const roundUp = next > 5 || (next === 5 && (/[1-9]/.test(rest) || !lastEven));
  if (!roundUp) return { digits: head.replace(/0+$/, '') || '0', point: d.point };
  // add one at position keep-1
  const incremented = (BigInt(head === '' ? '0' : head) + 1n).toString().padStart(Math.max(keep, 1), '0');
  if (incremented.length > Math.max(keep, 1) || head === '') {
    return { digits: incremented.replace(/0+$/, '') || '0', point: d.point + 1 };
  }
  return { digits: incremented.replace(/0+$/, '') || '0', point: d.point };
}

/** Go's %.{precision}g (strconv.FormatFloat(x, 'g', precision, 64)). */
export function formatG(value: number, precision: number): string {
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const prec = precision === 0 ? 1 : precision;
  const rounded = roundDigits(exactDecimal(Math.abs(value)), prec);
  const exp = rounded.digits === '0' ? 0 : rounded.point - 1;
  let digits = rounded.digits;
  if (exp < -4 || exp >= prec) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expAbs = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${expAbs}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
  digits = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  return sign + digits;
}

/** Go's %.{decimals}f (strconv.FormatFloat(x, 'f', decimals, 64)). */
export function formatF(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
  const sign = value < 0 ? '-' : '';
  const exact = exactDecimal(Math.abs(value));
  const rounded = roundDigits(exact, exact.point + decimals);
  let intPart: string;
  let fracPart: string;
  const digits = rounded.digits === '0' ? '' : rounded.digits;
  if (rounded.point <= 0) {
    intPart = '0';
    fracPart = '0'.repeat(-rounded.point) + digits;
  } else {
    intPart = digits.slice(0, rounded.point).padEnd(rounded.point, '0');
    fracPart = digits.slice(rounded.point);
  }
  fracPart = fracPart.padEnd(decimals, '0').slice(0, decimals);
  const text = decimals > 0 ? `${intPart}.${fracPart}` : intPart;
  return /[1-9]/.test(text) ? sign + text : text;
}
