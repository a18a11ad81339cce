/**
 * resource.Quantity (src/kube/quantity): parsing, canonical printing as apimachinery's
 * Quantity.String(), comparison, addition keeping the first non-zero operand's format, rounding.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  addQuantity,
  canonicalQuantity,
  cmpQuantity,
  formatQuantity,
  parseQuantity,
  quantityMilli,
  quantityNumber,
  quantityOf,
  quantityValue,
  QuantityError,
  ZERO,
} from '../../src/kube/quantity.js';

test('canonical forms (apimachinery quantity_test.go expectations)', () => {
  const cases: Array<[string | number, string]> = [
    ['0', '0'],
    ['1', '1'],
    ['0.5', '500m'],
    ['1.5', '1500m'],
    ['1000m', '1'],
    ['100m', '100m'],
    ['1000', '1k'],
    ['1500', '1500'],
    ['1200000', '1200k'],
    ['1Ki', '1Ki'],
    ['1024', '1024'],
    ['1536Mi', '1536Mi'],
    ['1.5Gi', '1536Mi'],
    ['2.5Gi', '2560Mi'],
    ['1Gi', '1Gi'],
    ['0.5Ki', '512'],
    ['1k', '1k'],
    ['1M', '1M'],
    ['1e3', '1e3'],
    ['1n', '1n'],
    ['1u', '1u'],
    ['0.1m', '100u'],
    [2, '2'],
    ['-1', '-1'],
    ['-500m', '-500m'],
  ];
  for (const [input, want] of cases) assert.is(canonicalQuantity(input), want, String(input));
});

test('finer than nano rounds up; bad text throws', () => {
  assert.is(canonicalQuantity('0.0000000001'), '1n');
  assert.throws(
    () => parseQuantity('1x'),
    (e: unknown) => e instanceof QuantityError,
  );
  assert.throws(
    () => parseQuantity(''),
    (e: unknown) => e instanceof QuantityError,
  );
  assert.throws(
    () => parseQuantity({}),
    (e: unknown) => e instanceof QuantityError,
  );
});

test('compare, add (format of the first non-zero operand), Value and MilliValue round up', () => {
  assert.is(cmpQuantity(parseQuantity('1'), parseQuantity('1000m')), 0);
  assert.is(cmpQuantity(parseQuantity('1Gi'), parseQuantity('1G')), 1);
  assert.is(formatQuantity(addQuantity(parseQuantity('512Mi'), parseQuantity('512Mi'))), '1Gi');
  assert.is(formatQuantity(addQuantity(ZERO, parseQuantity('64Mi'))), '64Mi');
  assert.is(formatQuantity(addQuantity(parseQuantity('600m'), parseQuantity('400m'))), '1');
  assert.is(formatQuantity(addQuantity(quantityOf(2), quantityOf(1))), '3');
  assert.is(quantityValue(parseQuantity('1500m')), 2n);
  assert.is(quantityMilli(parseQuantity('1.0001m')), 2n);
});

test('~> quantityNumber: quantities as the metrics API and storage sizes write them, as plain numbers', () => {
  assert.is(quantityNumber('250m'), 0.25);
  assert.is(quantityNumber('1234567n'), 0.001234567);
  assert.is(quantityNumber('2'), 2);
  assert.is(quantityNumber(3), 3);
  assert.is(quantityNumber('64Mi'), 64 * 2 ** 20);
  assert.is(quantityNumber('1536Ki'), 1536 * 1024);
  assert.is(quantityNumber('1G'), 1e9);
  assert.is(quantityNumber('12e3'), 12000);
  assert.is(quantityNumber('1234567891234'), 1234567891234);
  assert.ok(Number.isNaN(quantityNumber('x')));
  assert.ok(Number.isNaN(quantityNumber('5Qi')));
  assert.ok(Number.isNaN(quantityNumber(undefined)));
});

test.run();
