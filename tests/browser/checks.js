// The page checks the browser suite runs in each page (page.evaluate; no inline script needed).
// Argument: {field: true on the field flows, where form controls need 44 CSS px}.
// Returns {scrollWidth, innerWidth, wide: [...], unlabelled: [...], small: [...]}.
({ field }) => {
  const TARGETS = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  const FIELDS =
    'input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset])' +
    ':not([type=image]), select, textarea';

  // Shown: laid out with a size (closed <details> content and 1 px "visually hidden" aside).
  const shown = (el) => {
    // checkVisibility also hides the content of a closed <details> (content-visibility).
    if (!el.checkVisibility({ visibilityProperty: true })) return false;
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1;
  };
  const visibleText = (el) => shown(el) && el.innerText.trim() !== '';

  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    if (el.name) name += `[name=${el.name}]`;
    if (el.type && el.tagName === 'INPUT') name += `[type=${el.type}]`;
    if (el.classList.length) name += '.' + [...el.classList].join('.');
    const label = ['checkbox', 'radio'].includes(el.type) && el.labels && el.labels[0];
    const text = (label ? label.innerText : el.innerText || el.value || el.getAttribute('href') || '')
      .trim();
    return text ? `${name} "${text.replace(/\s+/g, ' ').slice(0, 40)}"` : name;
  };
  const size = (box) => `${Math.round(box.width)}x${Math.round(box.height)}`;

  // 1. Horizontal overflow, naming the deepest elements that stick out.
  const innerWidth = window.innerWidth;
  const scrollWidth = document.documentElement.scrollWidth;
  const wide = [];
  if (scrollWidth > innerWidth) {
    // What sticks out inside a box that scrolls sideways (a table's wrapper) is no culprit.
    const scrolls = (el) => {
      for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== 'visible') return true;
      }
      return false;
    };
    const out = [...document.body.querySelectorAll('*')].filter(
      (el) => el.getBoundingClientRect().right > innerWidth + 0.5 && !scrolls(el),
    );
    const leaves = out.filter((el) => !out.some((other) => other !== el && el.contains(other)));
    for (const el of leaves.slice(0, 5)) {
      wide.push(`${describe(el)} right=${Math.round(el.getBoundingClientRect().right)}`);
    }
  }

  // 2. Every visible input, select and textarea has a visible label.
  const labelled = (el) => {
    if ([...(el.labels || [])].some(visibleText)) return true;
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
    return ids.some((id) => {
      const target = document.getElementById(id);
      return target !== null && visibleText(target);
    });
  };
  // A radio or checkbox drawn by its label (the input itself transparent) shows with it.
  const choiceLabel = (el) =>
    ['checkbox', 'radio'].includes(el.type) && el.labels && el.labels.length ? el.labels[0] : null;
  const onScreen = (el) => shown(el) || (choiceLabel(el) !== null && shown(choiceLabel(el)));
  const unlabelled = [...document.querySelectorAll(FIELDS)]
    .filter((el) => onScreen(el) && !labelled(el))
    .map(describe);

  // 3. Tap targets: 24x24 everywhere, 44x44 for the field flows' form controls.
  // A link inside a sentence is exempt (WCAG 2.5.8's inline exception), never in the menu.
  const inSentence = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    if (el.closest('nav, header')) return false;
    let block = el.parentElement;
    while (block && ['inline', 'contents'].includes(getComputedStyle(block).display)) {
      block = block.parentElement;
    }
    if (!block) return false;
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      const target = node.parentElement.closest('a, button, summary, label');
      if (target && block.contains(target)) continue;
      if (/[\p{L}\p{N}]/u.test(node.textContent)) return true;
    }
    return false;
  };
  // A checkbox or radio is tapped through its label as much as itself: the larger box counts.
  const tapBox = (el) => {
    const box = el.getBoundingClientRect();
    const label = choiceLabel(el);
    if (label === null || !shown(label)) return box;
    const labelBox = label.getBoundingClientRect();
    return labelBox.width * labelBox.height > box.width * box.height ? labelBox : box;
  };
  const small = [];
  for (const el of document.querySelectorAll(TARGETS)) {
    if (!onScreen(el) || inSentence(el)) continue;
    const box = tapBox(el);
    const control = field && el.closest('main form') && !el.matches('a');
    const least = control ? 44 : 24;
    if (box.width + 0.01 < least || box.height + 0.01 < least) {
      small.push(`${describe(el)} ${size(box)} < ${least}x${least}`);
    }
  }
  return { scrollWidth, innerWidth, wide, unlabelled, small };
}
