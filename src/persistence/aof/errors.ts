/** strerror() texts for the AOF's log lines and MISCONF replies. */
import { osErrorText as loggerErrorText } from '../../server/logger.js';

/** The I/O errors an AOF meets, beyond the logger's common table. */
const IO_ERRORS: Record<string, string> = {
  EBADF: 'Bad file descriptor',
  EIO: 'Input/output error',
  EDQUOT: 'Disk quota exceeded',
  EFBIG: 'File too large',
};

export function osErrorText(e: NodeJS.ErrnoException): string {
  return (e.code !== undefined ? IO_ERRORS[e.code] : undefined) ?? loggerErrorText(e);
}
