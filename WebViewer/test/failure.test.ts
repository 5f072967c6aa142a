// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api';
import { errorAlert, messageOf, retryButton, statusNote } from '../src/failure';

describe('failure', () => {
  it('message and HTTP status of an error', () => {
    expect(messageOf(new ApiError(503, 'unavailable', 'Store down'))).toBe('Store down');
    expect(messageOf('plain')).toBe('plain');
    expect(statusNote(new ApiError(503, 'unavailable', 'x'))).toBe(' (HTTP 503)');
    expect(statusNote(new ApiError(0, 'network', 'x'))).toBe('');
    expect(statusNote(new Error('x'))).toBe('');
  });

  it('alert and Retry, as text only', () => {
    const alert = errorAlert(document, 'Could not load', new Error('<b>bad</b>'));
    expect(alert.getAttribute('role')).toBe('alert');
    expect(alert.querySelector('strong')?.textContent).toBe('Could not load: ');
    expect(alert.querySelector('.error-message')?.textContent).toBe('<b>bad</b>');
    expect(alert.querySelector('b')).toBeNull();
    const retry = vi.fn();
    const button = retryButton(document, retry);
    button.click();
    expect(button.textContent).toBe('Retry');
    expect(retry).toHaveBeenCalledOnce();
  });
});
